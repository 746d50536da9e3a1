#!/usr/bin/python3
"""scikit-learn recomputing the performance metrics of one window (what a batch tool does after each
event): accuracy, precision/recall/F1 and ROC AUC for binary pairs; MAE, MSE, R^2 for regression.
Same data as modelmon_perf_bench. Prints JSON: median seconds per recomputation, by window size."""
import json
import os
import sys
import timeit

import numpy as np
from sklearn import metrics

data = sys.argv[1] if len(sys.argv) > 1 else 'bench-data'
b = np.loadtxt(os.path.join(data, 'perf_binary.txt'))
r = np.loadtxt(os.path.join(data, 'perf_regression.txt'))
out = {}
for w in (1000, 10000, 100000):
    y, p, s = b[:w, 0].astype(int), b[:w, 1].astype(int), b[:w, 2]
    yt, yp = r[:w, 0], r[:w, 1]

    def classification():
        metrics.accuracy_score(y, p)
        metrics.precision_recall_fscore_support(y, p, average='binary', zero_division=0)
        metrics.roc_auc_score(y, s)

    def regression():
        metrics.mean_absolute_error(yt, yp)
        metrics.mean_squared_error(yt, yp)
        metrics.r2_score(yt, yp)

    for name, fn in (('classification', classification), ('regression', regression)):
        number = max(1, 20000 // w)
        runs = timeit.repeat(fn, number=number, repeat=5)
        out['%s_%d' % (name, w)] = sorted(runs)[2] / number
print(json.dumps(out))
