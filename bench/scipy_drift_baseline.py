#!/usr/bin/python3
"""scipy/numpy computing the same drift statistics as BM_NumericalEvaluateAllTests,
BM_CategoricalEvaluateAllTests and BM_Composite15Numerical5Categorical on the same data. Prints
JSON: median seconds per evaluation."""
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


# The composite of BM_Composite15Numerical5Categorical: ks + psi + wasserstein on 15 numerical
# features, chi2 + psi on 5 categorical features. What modelmon computes once per reference (bin
# edges, reference histogram and standard deviation, reference category counts) is computed here
# once too, outside the timed function.
comp_num_ref = np.loadtxt(os.path.join(data, 'composite_num_ref.txt'))
comp_num_cur = np.loadtxt(os.path.join(data, 'composite_num_cur.txt'))
comp_cat_ref = np.loadtxt(os.path.join(data, 'composite_cat_ref.txt'), dtype=str)
comp_cat_cur = np.loadtxt(os.path.join(data, 'composite_cat_cur.txt'), dtype=str)
num_prepared = []
for j in range(comp_num_ref.shape[1]):
    col = comp_num_ref[:, j]
    edges = np.unique(np.quantile(col, np.linspace(0, 1, 11)))
    edges[0], edges[-1] = -np.inf, np.inf
    num_prepared.append((col, edges, np.histogram(col, edges)[0].astype(float),
                         max(np.std(col), 0.001)))
cat_prepared = []
for j in range(comp_cat_ref.shape[1]):
    cats, counts = np.unique(comp_cat_ref[:, j], return_counts=True)
    cat_prepared.append((cats, counts.astype(float)))


def composite():
    for j, (col, edges, r, sd) in enumerate(num_prepared):
        cur_j = comp_num_cur[:, j]
        stats.ks_2samp(col, cur_j)
        psi(r, np.histogram(cur_j, edges)[0].astype(float))
        stats.wasserstein_distance(col, cur_j) / sd
    for j, (cats, r) in enumerate(cat_prepared):
        cur_cats, cur_counts = np.unique(comp_cat_cur[:, j], return_counts=True)
        c = np.zeros(len(cats) + 1)  # Last: categories outside the reference.
        pos = np.searchsorted(cats, cur_cats)
        known = (pos < len(cats)) & (cats[np.minimum(pos, len(cats) - 1)] == cur_cats)
        np.add.at(c, np.where(known, pos, len(cats)), cur_counts)
        rr = np.append(r, 0.0)
        keep = (rr + c) > 0
        stats.chi2_contingency(np.array([rr[keep], c[keep]]))
        psi(rr, c)


def median_seconds(fn, number):
    runs = timeit.repeat(fn, number=number, repeat=7)
    return sorted(runs)[len(runs) // 2] / number


print(json.dumps({'numerical_all_tests': median_seconds(numerical, 5),
                  'categorical_all_tests': median_seconds(categorical, 5),
                  'composite_15_numerical_5_categorical': median_seconds(composite, 1)}))
