"""The recipe's Python against the lab's TypeScript, on the cases in tests/fixtures/recipe-cases.json (computed
from the lab's functions by tests/unit/lab/recipe-python.test.ts, which runs this file).

    python3 -m unittest -v tests/python/test_labmath.py
"""
import importlib.util
import json
import math
import os
import re
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RECIPE = os.path.join(ROOT, "src", "lab", "recipe")
sys.path.insert(0, RECIPE)
import labmath as lm  # noqa: E402

with open(os.path.join(ROOT, "tests", "fixtures", "recipe-cases.json"), encoding="utf-8") as f:
    CASES = json.load(f)

try:
    import numpy  # noqa: F401

    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False


def load_train():
    """train.py imports torch & co. lazily: importing it must work without them."""
    spec = importlib.util.spec_from_file_location("recipe_train", os.path.join(RECIPE, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def close(test, a, b, tol=1e-12, where=""):
    """Recursively equal, floats within tol (null stands for NaN on both sides)."""
    if isinstance(a, dict):
        test.assertEqual(sorted(a), sorted(b), where)
        for k in a:
            close(test, a[k], b[k], tol, f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        test.assertEqual(len(a), len(b), where)
        for i, (x, y) in enumerate(zip(a, b)):
            close(test, x, y, tol, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        test.assertIsNotNone(a, where)
        test.assertIsNotNone(b, where)
        test.assertLessEqual(abs(a - b), tol * max(1.0, abs(b)), where)
    else:
        test.assertEqual(a, b, where)


class Randomness(unittest.TestCase):
    def test_lab_rng(self):
        for c in CASES["rng"]:
            r = lm.lab_rng(c["seed"])
            self.assertEqual([r() for _ in c["values"]], c["values"], c["seed"])
            if HAVE_NUMPY:
                self.assertEqual(list(lm.lab_rng_array(c["seed"], len(c["values"]))), c["values"])

    def test_uniform_pm1(self):
        for c in CASES["uniformPm1"]:
            r = lm.uniform_pm1(c["seed"])
            self.assertEqual([r() for _ in c["values"]], c["values"], c["seed"])
            if HAVE_NUMPY:
                self.assertEqual(list(lm.uniform_pm1_array(c["seed"], 5, 7)), c["values"][7:12])

    def test_epoch_order(self):
        for c in CASES["epochOrder"]:
            self.assertEqual(lm.epoch_order(c["n"], c["seed"], c["epoch"]), c["order"], c)


class Training(unittest.TestCase):
    def test_plan_rounds_warmup_as_the_lab(self):
        for c in CASES["plans"]:
            p = lm.plan_steps(c["n"], c["batchSize"], c["epochs"], c["warmupFraction"])
            self.assertEqual({"batch": p["batch"], "perEpoch": p["perEpoch"], "totalSteps": p["total"], "warmupSteps": p["warmup"]}, c["plan"], c)
        # 2 steps at 25 %: the lab rounds 0.5 up to 1 step, Python's round() would give 0 (banker's rounding).
        self.assertEqual(lm.js_round(0.5), 1)
        self.assertEqual(lm.js_round(2.5), 3)

    def test_schedule(self):
        for c in CASES["schedules"]:
            got = [lm.learning_rate_at(s, c["total"], c["kind"], c["warmup"], c["peak"]) for s in range(len(c["lrs"]))]
            close(self, got, c["lrs"], 1e-15, c["kind"])
            self.assertEqual(got[0], 0.0)

    def test_truncation_keeps_the_answer(self):
        for c in CASES["truncate"]:
            ids, mask = lm.truncate_left(c["ids"], c["mask"], c["max"])
            self.assertEqual({"ids": ids, "lossMask": mask}, c["out"])

    def test_train_examples_mask_the_reply_as_the_lab(self):
        """train.py's tokenisation of a conversation, with a tokenizer that merges across the prompt/reply boundary
        as the lab's test tokenizer does (same rule, same chat template): the masks equal the lab's."""
        train = load_train()

        class WordTok:
            bos_token_id = 1
            pad_token_id = 0

            def __init__(self):
                self.vocab = {}

            def __call__(self, text, add_special_tokens=False):
                words = re.findall(r"<[a-z]+>|:\n[A-D]|\S+|\s+", text)
                return {"input_ids": [self.vocab.setdefault(w, len(self.vocab) + 3) for w in words]}

            def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
                return "".join(f"<{m['role']}>:\n{m['content']}</s> " for m in messages) + ("<assistant>:\n" if add_generation_prompt else "")

        scorer = train.Scorer(WordTok(), [], "letter")
        rows = [{"prompt": c["messages"][:-1], "completion": c["messages"][-1:]} for c in CASES["masks"]]
        got = train.train_examples(scorer, rows, 10_000)
        self.assertEqual([m for _, m in got], [c["mask"] for c in CASES["masks"]])
        self.assertEqual([len(i) for i, _ in got], [len(c["fullIds"]) for c in CASES["masks"]])
        # Truncation keeps the reply: the last 5 tokens, mask included.
        short = train.train_examples(scorer, rows, 5)
        self.assertEqual([m for _, m in short], [c["mask"][-5:] for c in CASES["masks"]])

    def test_reply_mask(self):
        for c in CASES["masks"]:
            self.assertEqual(lm.reply_mask(c["promptIds"], c["fullIds"]), c["mask"])
        with self.assertRaises(ValueError):
            lm.reply_mask([1, 2, 3], [1, 2, 3])

    @unittest.skipUnless(HAVE_NUMPY, "numpy")
    def test_lora_init_is_the_labs(self):
        import numpy as np

        c = CASES["lora"]
        modules = {"q": "self_attn.q_proj", "v": "self_attn.v_proj", "down": "mlp.down_proj"}
        seen = 0
        for layer, t, values in lm.lora_a_init(c["layers"], c["targets"], c["rank"], lambda t: c["inFeatures"][t], c["seed"]):
            name = f"base_model.model.model.layers.{layer}.{modules[t]}.lora_A.weight"
            # The lab stores Float32Array values: the same numbers once rounded to float32.
            self.assertEqual([float(x) for x in np.float32(values)], c["a"][name], name)
            seen += 1
        self.assertEqual(seen, len(c["a"]))

    def test_shards_cover_the_global_batch_once(self):
        batch = list(range(11))
        for world in (1, 2, 3, 4, 16):
            for micro in (1, 2, 5, 100):
                parts = [lm.shard(batch, r, world, micro) for r in range(world)]
                self.assertEqual(len({len(p) for p in parts}), 1, "every process takes the same number of micro-steps")
                got = sorted(i for p in parts for m in p if m for i in m)
                self.assertEqual(got, batch)
                self.assertTrue(all(len(m) <= micro for p in parts for m in p if m))

    def test_global_batches_are_the_labs_order(self):
        got = list(lm.global_batches(10, 4, 2, 1))
        o0, o1 = lm.epoch_order(10, 1, 0), lm.epoch_order(10, 1, 1)
        self.assertEqual(got, [(0, o0[0:4]), (0, o0[4:8]), (0, o0[8:10]), (1, o1[0:4]), (1, o1[4:8]), (1, o1[8:10])])


class Measures(unittest.TestCase):
    def test_pairwise(self):
        for c in CASES["metrics"]:
            self.assertEqual(lm.dense_rank(c["p"]), c["denseRank"])
            close(self, lm.spearman(c["p"], c["q"]), c["spearman"], 1e-15)
            close(self, lm.kl(c["p"], c["q"]), c["kl"], 1e-15)
            close(self, lm.cosine(c["p"], c["q"]), c["cosine"], 1e-15)

    def test_bootstrap_is_bit_for_bit(self):
        for c in CASES["bootstrap"]:
            got = lm.json_safe(lm.bootstrap_mean(c["values"], c["samples"], c["seed"]))
            self.assertEqual(got, c["interval"], c)

    def test_bootstrap_without_numpy_matches(self):
        import unittest.mock as mock

        c = CASES["bootstrap"][1]
        with mock.patch.object(lm, "_bootstrap_stats_numpy", lambda *a: None):
            self.assertEqual(lm.json_safe(lm.bootstrap_mean(c["values"], c["samples"], c["seed"])), c["interval"])

    def test_set_report(self):
        c = CASES["report"]
        got = lm.json_safe(lm.set_report(c["base"], c["tuned"], c["gold"], c["samples"], c["seed"]))
        close(self, got, c["expected"], 1e-12, "report")

    def test_debias_averages_by_content(self):
        q = {"id": "q", "subject": "s", "question": "?", "options": ["w", "x", "y", "z"], "answer": 2}
        # A model that always says "A" whatever the content, and one that always picks option "y".
        letter_a = [[1.0, 0.0, 0.0, 0.0]] * 4
        self.assertEqual(lm.debias(letter_a), [0.25, 0.25, 0.25, 0.25])
        picks_y = []
        for s in range(4):
            r = lm.rotate(q, s)
            picks_y.append([1.0 if o == "y" else 0.0 for o in r["options"]])
        self.assertEqual(lm.debias(picks_y), [0.0, 0.0, 1.0, 0.0])


class Prompts(unittest.TestCase):
    def test_prompts_byte_for_byte(self):
        for c in CASES["prompts"]:
            q = c["q"]
            self.assertEqual(lm.chat_user_text(q), c["chat"])
            self.assertEqual(lm.kshot_text(q, CASES["fewshot"], 2), c["kshot"])
            self.assertEqual([lm.rotate(q, s) for s in (1, 2, 3)], c["rotated"])

    def test_dataset_hash_is_the_labs(self):
        train = load_train()
        d = CASES["datasetHash"]
        self.assertEqual(train.dataset_hash(d["rows"]), d["sha256"])

    def test_builtin_model_is_refused_with_advice(self):
        train = load_train()
        with self.assertRaises(SystemExit) as e:
            train.check_model_id("builtin:toy-world")
        self.assertIn("--model", str(e.exception))
        train.check_model_id("Qwen/Qwen2.5-7B")

    def test_json_safe(self):
        self.assertEqual(lm.json_safe({"a": [math.nan, 1.0, math.inf]}), {"a": [None, 1.0, None]})


if __name__ == "__main__":
    unittest.main()
