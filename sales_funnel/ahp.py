"""The analytic hierarchy process (AHP) on a pairwise comparison matrix.

Plain functions (no model): the opportunity grade's weights and their
consistency. ``matrix[i][j]`` says how much more important indicator ``i`` is
than indicator ``j`` on Saaty's 1–9 scale, with ``matrix[j][i] = 1 / matrix[i][j]``.

- weights: the principal eigenvector of the matrix, normalised to sum 1;
- consistency index CI = (λmax − n) / (n − 1);
- consistency ratio CR = CI / RI, RI being Saaty's random index for size n
  (T. L. Saaty, *The Analytic Hierarchy Process*, McGraw-Hill, 1980, table 1.3;
  a matrix with CR < 0.10 is acceptably consistent).
"""

import math

import numpy

# Saaty's random consistency index, by matrix size (n = 1 … 15).
RANDOM_INDEX = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}

# A matrix may be used from this consistency ratio down (Saaty's 10 %).
CR_LIMIT = 0.10

# Saaty's scale and its reciprocals, as stored in a matrix cell.
SCALE = ["9", "8", "7", "6", "5", "4", "3", "2", "1"] + [f"1/{n}" for n in range(2, 10)]


def ratio(value):
    """The number of a scale value ("3" → 3.0, "1/3" → 0.333…)."""
    if not value:
        return 1.0
    if value.startswith("1/"):
        return 1.0 / float(value[2:])
    return float(value)


def reciprocal(value):
    """The scale value of the opposite comparison ("3" → "1/3", "1/3" → "3")."""
    if not value or value == "1":
        return "1"
    if value.startswith("1/"):
        return value[2:]
    return f"1/{value}"


def random_index(size):
    return RANDOM_INDEX.get(size, RANDOM_INDEX[15])


def priorities(matrix):
    """(weights, λmax) of a positive reciprocal matrix: the principal
    eigenvector normalised to sum 1, and its eigenvalue."""
    size = len(matrix)
    if not size:
        return [], 0.0
    values, vectors = numpy.linalg.eig(numpy.array(matrix, dtype=float))
    index = int(numpy.argmax(values.real))
    vector = numpy.abs(vectors[:, index].real)
    weights = vector / vector.sum()
    return [float(w) for w in weights], float(values[index].real)


def consistency(matrix):
    """(weights, λmax, CI, CR) of a pairwise comparison matrix."""
    weights, lambda_max = priorities(matrix)
    size = len(matrix)
    if size < 3:
        # Two comparisons or fewer are always consistent.
        return weights, float(size), 0.0, 0.0
    index = max((lambda_max - size) / (size - 1), 0.0)
    return weights, lambda_max, index, index / random_index(size)


def most_inconsistent(matrix, weights):
    """The pair (i, j), i < j, whose judgement a_ij strays furthest from the
    ratio of the weights w_i / w_j (on a logarithmic scale: 3 against 1/3 is
    as far as 1/3 against 3)."""
    worst, pair = -1.0, None
    for i, row in enumerate(matrix):
        for j in range(i + 1, len(row)):
            deviation = abs(math.log(row[j] * weights[j] / weights[i]))
            if deviation > worst:
                worst, pair = deviation, (i, j)
    return pair


def consistent_value(weight_i, weight_j):
    """The scale value closest to w_i / w_j (what would make the pair agree)."""
    target = math.log(weight_i / weight_j)
    return min(SCALE, key=lambda value: abs(math.log(ratio(value)) - target))
