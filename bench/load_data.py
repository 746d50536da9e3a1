#!/usr/bin/python3
"""Writes the load-test data set for bench/run_load.sh into OUT (deterministic, fixed seed):

  modelmon.yaml   one binary classifier "bench": N numerical + C categorical features, a window of
                  --window events, the reference file below; drift tests are left to the defaults.
  reference.csv   --reference-rows rows drawn from the reference distribution.
  batches.jsonl   --batches lines, each a JSON array of --batch-size prediction events.
  singles.jsonl   --singles lines, each one prediction event (a JSON object).

Live events drift against the reference: the first third of the numerical features are shifted by
0.3 sigma and widened, and the first categorical feature moves 30% of its mass to other categories,
so that detectors do real work. Events carry no "id" (no ground-truth join).
"""
import argparse
import json
import os

import numpy as np

CATEGORIES = 12


def main():
    p = argparse.ArgumentParser()
    p.add_argument('out')
    p.add_argument('--numerical', type=int, default=15)
    p.add_argument('--categorical', type=int, default=5)
    p.add_argument('--window', type=int, default=10000)
    p.add_argument('--reference-rows', type=int, default=10000)
    p.add_argument('--batch-size', type=int, default=1000)
    p.add_argument('--batches', type=int, default=40)
    p.add_argument('--singles', type=int, default=20000)
    p.add_argument('--seed', type=int, default=20261129)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)

    num_names = ['n%02d' % i for i in range(a.numerical)]
    cat_names = ['c%02d' % i for i in range(a.categorical)]
    means = rng.normal(0, 5, a.numerical)
    scales = rng.uniform(0.5, 3, a.numerical)
    cat_p = [rng.dirichlet(np.ones(CATEGORIES)) for _ in cat_names]
    drifted_num = max(1, a.numerical // 3)

    def draw(n, live):
        num = rng.normal(means, scales, (n, a.numerical))
        if live:
            num[:, :drifted_num] = rng.normal(means[:drifted_num] + 0.3 * scales[:drifted_num],
                                              1.2 * scales[:drifted_num], (n, drifted_num))
        cats = []
        for j, probs in enumerate(cat_p):
            if live and j == 0:
                probs = 0.7 * probs + 0.3 * np.roll(probs, 3)
            cats.append(rng.choice(CATEGORIES, n, p=probs))
        score = np.round(rng.uniform(0, 1, n), 3)
        return np.round(num, 4), cats, score

    with open(os.path.join(a.out, 'modelmon.yaml'), 'w') as f:
        f.write('# Written by bench/load_data.py: the load-test model.\n')
        f.write('server:\n  listen: "127.0.0.1:0"\n')
        f.write('log: {level: info}\n')
        f.write('models:\n  - name: bench\n    task: binary_classification\n')
        f.write('    classes: ["0", "1"]\n    positive_class: "1"\n    features:\n')
        for n in num_names:
            f.write('      - {name: %s, type: numerical}\n' % n)
        for n in cat_names:
            f.write('      - {name: %s, type: categorical}\n' % n)
        f.write('    window: {size: %d}\n' % a.window)
        f.write('    reference: {file: reference.csv}\n')

    num, cats, score = draw(a.reference_rows, live=False)
    with open(os.path.join(a.out, 'reference.csv'), 'w') as f:
        f.write(','.join(num_names + cat_names + ['prediction', 'score']) + '\n')
        for i in range(a.reference_rows):
            row = ['%.4f' % v for v in num[i]] + ['k%02d' % c[i] for c in cats]
            row += ['1' if score[i] >= 0.5 else '0', '%.3f' % score[i]]
            f.write(','.join(row) + '\n')

    def events(n):
        num, cats, score = draw(n, live=True)
        out = []
        for i in range(n):
            features = {name: float(num[i, j]) for j, name in enumerate(num_names)}
            features.update({name: 'k%02d' % cats[j][i] for j, name in enumerate(cat_names)})
            out.append({'model': 'bench', 'features': features,
                        'prediction': 1 if score[i] >= 0.5 else 0, 'score': float(score[i])})
        return out

    compact = {'separators': (',', ':')}
    with open(os.path.join(a.out, 'batches.jsonl'), 'w') as f:
        for _ in range(a.batches):
            f.write(json.dumps(events(a.batch_size), **compact) + '\n')
    with open(os.path.join(a.out, 'singles.jsonl'), 'w') as f:
        for e in events(a.singles):
            f.write(json.dumps(e, **compact) + '\n')


if __name__ == '__main__':
    main()
