"""Inside-the-network screens: decision boundary, gradient flow, activations, linear collapse,
partial derivatives, weight inspector, data (registered in ``views``)."""
