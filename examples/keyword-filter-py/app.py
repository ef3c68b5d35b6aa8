"""The keyword filter as a moderation plugin, in Python (built with componentize-py).

Configuration: {"keywords": ["buy now", "free crypto"], "action": "reject"} where action is
reject (default), flag or cw. Same verdicts as the Rust plugin in plugins/keyword-filter.
"""

import dataclasses
import json

import wit_world
from componentize_py_types import Err
from wit_world.exports import meta, moderation
from wit_world.imports import review, types
from wit_world.imports.log import Level, log

from keywords import Filter

NAME = "keyword-filter-py"
VERSION = "0.1.0"
CONFIG_SCHEMA = (
    '{"type":"object","required":["keywords"],"properties":{"keywords":{"type":"array",'
    '"items":{"type":"string"}},"action":{"enum":["reject","flag","cw"]}}}'
)

# Set by `configure`; until then every check answers with a configuration error.
_filter = None


class Meta(wit_world.exports.Meta):
    def info(self) -> meta.PluginInfo:
        return meta.PluginInfo(name=NAME, version=VERSION, config_schema=CONFIG_SCHEMA)

    def configure(self, config_json: str) -> None:
        global _filter
        try:
            _filter = Filter.from_json(config_json)
        except ValueError as e:
            raise Err(str(e))


class Moderation(wit_world.exports.Moderation):
    # `activity` and `note` are handles to the host's copies, valid during the call: each
    # method call copies one field into the plugin.
    def check_note(
        self, activity: review.Activity, note: review.NoteView
    ) -> moderation.Verdict:
        if _filter is None:
            raise Err(types.PluginError_Config("no keywords configured"))
        hit = _filter.first_match(note.text(), note.content_warning())
        if hit is None:
            return moderation.Verdict_Accept()
        log(Level.INFO, f"note {note.id()} matched {json.dumps(hit, ensure_ascii=False)}")
        if _filter.action == "reject":
            return moderation.Verdict_Reject(f"contains a blocked keyword: {hit}")
        if _filter.action == "flag":
            return moderation.Verdict_Flag(f"contains {hit}")
        return moderation.Verdict_Rewrite(
            dataclasses.replace(note.to_note(), content_warning=f"filtered: {hit}")
        )

    def check_activity(
        self, activity: review.Activity, object_id: str | None
    ) -> moderation.Verdict:
        return moderation.Verdict_Accept()
