"""Word-level tokenizer, saved as a HuggingFace `tokenizers` JSON (WordLevel model,
Lowercase normaliser, Whitespace pre-tokeniser = regex \\w+|[^\\w\\s]+, no post-processor,
so no [CLS]/[SEP] are added).  This module re-implements the same rules in Python so that
training does not need the `tokenizers` package."""
import json
import re

PAD, UNK, MASK = "[PAD]", "[UNK]", "[MASK]"
SPECIALS = [PAD, UNK, MASK]
_SPLIT = re.compile(r"\w+|[^\w\s]+")


class Tokenizer:
    def __init__(self, vocab):
        self.vocab = dict(vocab)
        self.pad_id, self.unk_id, self.mask_id = self.vocab[PAD], self.vocab[UNK], self.vocab[MASK]

    @classmethod
    def from_names(cls, names):
        words = sorted({w for n in names for w in _SPLIT.findall(n.lower())})
        vocab = {t: i for i, t in enumerate(SPECIALS)}
        for w in words:
            vocab[w] = len(vocab)
        return cls(vocab)

    def tokenize(self, text):
        return _SPLIT.findall(text.lower())

    def encode(self, text, max_len):
        """-> (ids, mask) lists of length max_len (truncated / right-padded with [PAD])."""
        ids = [self.vocab.get(w, self.unk_id) for w in self.tokenize(text)][:max_len]
        n = len(ids)
        return ids + [self.pad_id] * (max_len - n), [1] * n + [0] * (max_len - n)

    def to_hf_json(self):
        added = [dict(id=self.vocab[t], content=t, single_word=False, lstrip=False, rstrip=False,
                      normalized=False, special=True) for t in SPECIALS]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": None,
            "decoder": None,
            "model": {"type": "WordLevel", "vocab": self.vocab, "unk_token": UNK},
        }

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.to_hf_json(), f, indent=1)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f)["model"]["vocab"])
