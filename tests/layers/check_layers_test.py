#!/usr/bin/env python3
"""scripts/check_layers.py on small synthetic trees: each forbidden include is reported, allowed
ones are not, and the exit codes are 0, 1 and 2 as documented."""

import pathlib
import subprocess
import sys
import tempfile
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "check_layers.py"

LAYERS = """\
layer common:
  public: clock.h
layer detectors: common
  pure: yes
layer config: common detectors
  public: config.h
  third_party: yaml-cpp
layer server: config
  public: daemon.h
  third_party: boost/asio
"""


def run(files):
    with tempfile.TemporaryDirectory() as root:
        base = pathlib.Path(root)
        for rel, text in files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        out = subprocess.run([sys.executable, str(SCRIPT), "--root", root],
                             capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr


def tree(**extra):
    files = {
        "src/layers.txt": LAYERS,
        "include/modelmon/clock.h": "",
        "include/modelmon/config.h": '#include "modelmon/clock.h"\n',
        "include/modelmon/daemon.h": '#include "modelmon/config.h"\n',
        "src/common/clock.cc": '#include "modelmon/clock.h"\n',
        "src/detectors/drift.h": '#include <vector>\n#include "common/x.h"\n',
        "src/config/loader.cc": ('#include <yaml-cpp/yaml.h>\n#include "detectors/drift.h"\n'
                                 '#include "modelmon/config.h"\n'),
        "src/server/service.h": '#include <boost/asio/io_context.hpp>\n#include "detectors/drift.h"\n',
        "tests/config/loader_test.cc": ('#include <gtest/gtest.h>\n#include "config/loader.h"\n'
                                        '#include "common/fake_clock.h"\n'),
    }
    files.update(extra)
    return files


class CheckLayersTest(unittest.TestCase):
    def test_allowed_includes_pass(self):
        code, out = run(tree())
        self.assertEqual(code, 0, out)
        self.assertIn("0 violation(s)", out)

    def test_upward_include_fails(self):
        code, out = run(tree(**{"src/detectors/bad.cc": '#include "server/service.h"\n'}))
        self.assertEqual(code, 1, out)
        self.assertIn("src/detectors/bad.cc:1: detectors includes server/service.h", out)

    def test_public_header_of_a_higher_layer_fails(self):
        code, out = run(tree(**{"src/config/bad.cc": '#include "modelmon/daemon.h"\n'}))
        self.assertEqual(code, 1, out)
        self.assertIn("modelmon/daemon.h of layer server, not a dependency", out)

    def test_third_party_outside_its_layer_fails(self):
        code, out = run(tree(**{"src/detectors/bad.cc": "#include <yaml-cpp/yaml.h>\n"}))
        self.assertEqual(code, 1, out)
        self.assertIn("not a third-party library of detectors", out)

    def test_third_party_header_stays_inside_its_layer(self):
        inside = tree(**{"src/config/yaml.h": "#include <yaml-cpp/yaml.h>\n",
                         "src/config/reader.cc": '#include "config/yaml.h"\n',
                         "tests/config/yaml_test.cc": '#include "config/yaml.h"\n'})
        code, out = run(inside)
        self.assertEqual(code, 0, out)
        inside["src/server/bad.cc"] = '#include "config/yaml.h"\n'
        code, out = run(inside)
        self.assertEqual(code, 1, out)
        self.assertIn("src/server/bad.cc:1 includes config/yaml.h, which exposes a third-party "
                      "header outside config", out)

    def test_pure_layer_cannot_lock(self):
        code, out = run(tree(**{"src/detectors/bad.cc": "#include <mutex>\n"}))
        self.assertEqual(code, 1, out)
        self.assertIn("detectors is pure and includes <mutex>", out)

    def test_test_sees_only_its_layer_and_below(self):
        code, out = run(tree(**{"tests/config/bad_test.cc": '#include "server/service.h"\n'}))
        self.assertEqual(code, 1, out)
        self.assertIn("tests/config/bad_test.cc:1: config includes server/service.h", out)

    def test_unknown_folder_and_unowned_header_fail(self):
        code, out = run(tree(**{"src/extra/x.cc": "", "include/modelmon/orphan.h": "",
                                "src/server/relative.cc": '#include "../detectors/drift.h"\n'}))
        self.assertEqual(code, 1, out)
        self.assertIn("src/extra/ is not a layer", out)
        self.assertIn("include/modelmon/orphan.h is not a public header", out)
        self.assertIn('"../detectors/drift.h", which belongs to no layer', out)

    def test_malformed_layers_file_exits_2(self):
        code, out = run(tree(**{"src/layers.txt": "layer a: b\n"}))
        self.assertEqual(code, 2, out)
        self.assertIn("depends on undeclared b", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
