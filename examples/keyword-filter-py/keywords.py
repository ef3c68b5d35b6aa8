"""The keyword filter itself, independent of the plugin interface (plain Python: it also runs
outside WebAssembly: `python3 -m unittest` runs test_keywords.py).

It gives the same answers as the Rust plugin (plugins/keyword-filter/src/filter.rs):

- keywords are lower-cased (full Unicode lower-casing) and empty ones dropped;
- ASCII letters always compare without case; a note part with non-ASCII text is lower-cased
  as a whole only when some keyword has non-ASCII characters;
- the text is searched first, then the content warning;
- within one part, the keyword reported is the one whose first occurrence ENDS first, and of
  those ending at the same place the longest (what a standard Aho-Corasick search reports).
"""

import json

ACTIONS = ("reject", "flag", "cw")


class Filter:
    def __init__(self, keywords, action="reject"):
        if action not in ACTIONS:
            raise ValueError(
                f"unknown variant `{action}`, expected one of `reject`, `flag`, `cw`"
            )
        self.keywords = [k for k in (k.lower() for k in keywords) if k]
        # Searched as UTF-8, like the Rust filter: positions and lengths are in bytes.
        self._encoded = [k.encode() for k in self.keywords]
        self.unicode_keywords = any(not k.isascii() for k in self.keywords)
        self.action = action

    @classmethod
    def from_json(cls, text):
        """Reads the plugin's JSON configuration; raises ValueError with a message."""
        try:
            config = json.loads(text)
        except ValueError as e:
            raise ValueError(str(e)) from None
        if not isinstance(config, dict):
            raise ValueError("invalid type: expected a JSON object")
        if "keywords" not in config:
            raise ValueError("missing field `keywords`")
        keywords = config["keywords"]
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise ValueError("invalid type: `keywords` must be a list of strings")
        action = config.get("action", "reject")
        if not isinstance(action, str):
            raise ValueError("invalid type: `action` must be a string")
        return cls(keywords, action)

    def _find(self, part):
        if not self.unicode_keywords or part.isascii():
            # bytes.lower() lower-cases ASCII letters only.
            haystack = part.encode().lower()
        else:
            haystack = part.lower().encode()
        best = None  # (end, -length, keyword)
        for k, encoded in zip(self.keywords, self._encoded):
            start = haystack.find(encoded)
            if start < 0:
                continue
            candidate = (start + len(encoded), -len(encoded))
            if best is None or candidate < best[:2]:
                best = (*candidate, k)
        return None if best is None else best[2]

    def first_match(self, text, cw):
        """The first keyword found in the text or else the content warning, or None."""
        for part in (text, cw):
            if part is not None:
                hit = self._find(part)
                if hit is not None:
                    return hit
        return None
