"""Unit tests of the filter under CPython: `python3 -m unittest` (no build needed)."""

import unittest

from keywords import Filter


class FilterTest(unittest.TestCase):
    def test_matches_case_insensitively_in_text_and_cw(self):
        f = Filter.from_json('{"keywords":["Buy Now",""],"action":"cw"}')
        self.assertEqual(f.action, "cw")
        self.assertEqual(f.first_match("please BUY NOW", None), "buy now")
        self.assertEqual(f.first_match(None, "buy now!"), "buy now")
        self.assertIsNone(f.first_match("hello", None))
        self.assertRaises(ValueError, Filter.from_json, "{}")
        self.assertRaises(ValueError, Filter.from_json, '{"keywords":[],"action":"CW"}')
        cyrillic = Filter.from_json('{"keywords":["Спам"]}')
        self.assertEqual(cyrillic.action, "reject")
        self.assertEqual(cyrillic.first_match("это СПАМ", None), "спам")

    def test_reports_the_match_that_ends_first_the_longest_of_those(self):
        f = Filter(["crypto", "free crypto", "ee c"])
        self.assertEqual(f.first_match("FREE CRYPTO", None), "ee c")
        self.assertEqual(Filter(["crypto", "free crypto"]).first_match("free crypto", None), "free crypto")
        self.assertEqual(f.first_match("crypto, free crypto", None), "crypto")

    def test_lower_cases_non_ascii_text_only_for_non_ascii_keywords(self):
        # The Kelvin sign lower-cases to an ASCII k.
        self.assertIsNone(Filter(["k"]).first_match("\u212a", None))
        self.assertEqual(Filter(["k", "é"]).first_match("\u212a", None), "k")
        self.assertEqual(Filter(["ΟΔΟΣ"]).keywords, ["οδος"])


if __name__ == "__main__":
    unittest.main()
