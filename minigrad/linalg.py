"""``torch.linalg``'s norms: ``vector_norm``, ``matrix_norm`` (no SVD-based orders) and ``norm``.

Differs from torch: only the norms are here (no solvers or decompositions), and the matrix norms that need
singular values (``ord`` 2, -2 and 'nuc') raise NotImplementedError.
"""

from .ops.counting import linalg_cross as cross
from .ops.norms import linalg_norm as norm
from .ops.norms import matrix_norm, vector_norm

__all__ = ["cross", "matrix_norm", "norm", "vector_norm"]
