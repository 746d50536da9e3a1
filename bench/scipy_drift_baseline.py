#!/usr/bin/python3
"""scipy/numpy computing the same drift statistics as BM_NumericalEvaluateAllTests and
BM_CategoricalEvaluateAllTests on the same data. Prints JSON: median seconds per evaluation."""
import json
import os
import sys
import timeit

import numpy as np
from scipy import stats
from scipy.spatial import distance

data = sys.argv[1] if len(sys.argv) > 1 else 'bench-data'
ref = np.loadtxt(os.path.join(data, 'num_ref.txt'))
cur = np.loadtxt(os.path.join(data, 'num_cur.txt'))
cat_ref = np.loadtxt(os.path.join(data, 'cat_ref.txt'), dtype=str)
cat_cur = np.loadtxt(os.path.join(data, 'cat_cur.txt'), dtype=str)


def fill(shares):
    nz = shares[shares > 0]
    eps = 1e-4 if nz.min() > 1e-4 else nz.min() / 1e6
    return np.where(shares == 0, eps, shares)


def psi(r, c):
    r, c = fill(r / r.sum()), fill(c / c.sum())
    return float(np.sum((c - r) * np.log(c / r)))


def numerical():
    stats.ks_2samp(ref, cur)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)))
    edges[0], edges[-1] = -np.inf, np.inf
    r = np.histogram(ref, edges)[0].astype(float)
    c = np.histogram(cur, edges)[0].astype(float)
    psi(r, c)
    stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    distance.jensenshannon(r / r.sum(), c / c.sum())


def categorical():
    cats, inv = np.unique(np.concatenate([cat_ref, cat_cur]), return_inverse=True)
    r = np.bincount(inv[:len(cat_ref)], minlength=len(cats)).astype(float)
    c = np.bincount(inv[len(cat_ref):], minlength=len(cats)).astype(float)
    stats.chi2_contingency(np.array([r, c]))
    psi(r, c)
    distance.jensenshannon(r / r.sum(), c / c.sum())


def median_seconds(fn, number):
    runs = timeit.repeat(fn, number=number, repeat=7)
    return sorted(runs)[len(runs) // 2] / number


print(json.dumps({'numerical_all_tests': median_seconds(numerical, 5),
                  'categorical_all_tests': median_seconds(categorical, 5)}))
