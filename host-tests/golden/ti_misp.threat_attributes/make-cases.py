#!/usr/bin/env python3
"""Writes the MISP golden inputs (both data sets). Run from the repository root:

    python3 host-tests/golden/ti_misp.threat_attributes/make-cases.py

The inputs are plain files and are committed; this script only saves typing. The expected
files come from `TI_ECS_BLESS=1 cargo test --test golden` and are reviewed by hand.
"""
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REF = os.path.normpath(os.path.join(ROOT, "..", "..", "..", "shared", "reference"))
ELASTIC = os.path.join(REF, "elastic", "ti_misp", "data_stream")
ATTR = os.path.join(ROOT, "ti_misp.threat_attributes")
THREAT = os.path.join(ROOT, "ti_misp.threat")


def write(folder, name, body, options=None, raw=False):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name + ".input.json"), "w", encoding="utf-8") as f:
        f.write(body if raw else json.dumps(body, ensure_ascii=False))
    opath = os.path.join(folder, name + ".options.json")
    if options is not None:
        with open(opath, "w", encoding="utf-8") as f:
            f.write(json.dumps(options))
    elif os.path.exists(opath):
        os.remove(opath)


def file_name(t):
    return t.replace("|", "+").replace("/", "_").replace(" ", "_")


HEX = "0123456789abcdef" * 8
HASH_LEN = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128,
            "sha512/224": 56, "sha512/256": 64, "sha3-224": 56, "sha3-256": 64, "sha3-384": 96,
            "sha3-512": 128, "authentihash": 64, "cdhash": 40, "vhash": 26, "pehash": 40,
            "imphash": 32, "telfhash": 72, "tlsh": 70}
FUZZY = {"ssdeep": "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhzgCZ5yv",
         "impfuzzy": "48:BSAKsTdW8FlV3ucDDT3KwLeZfmA4u4T9z8o5bGA:BSAKKWStugDT6TufmVX3pG"}


def value_for(t):
    if t in HASH_LEN:
        return HEX[: HASH_LEN[t]]
    if t in FUZZY:
        return FUZZY[t]
    if t.startswith("filename|"):
        return "invoice.exe|" + value_for(t.split("|", 1)[1])
    return {
        "AS": "48031", "attachment": "report.pdf", "malware-sample": "sample.zip|" + HEX[:32],
        "domain": "evil.example", "hostname": "c2.evil.example", "domain|ip": "evil.example|192.0.2.10",
        "hostname|port": "c2.evil.example|8443", "ip-src": "198.51.100.7", "ip-dst": "203.0.113.9",
        "ip-src|port": "198.51.100.7|4444", "ip-dst|port": "203.0.113.9|2222", "port": "3389",
        "url": "https://evil.example:8443/dl/payload.exe?id=7#top", "link": "https://blog.example/post/1",
        "uri": "/gate.php?bot=1", "email": "someone@evil.example", "email-src": "phish@evil.example",
        "email-dst": "victim@corp.example", "email-reply-to": "reply@evil.example",
        "email-subject": "Invoice overdue", "mac-address": "00:11:22:aa:bb:cc",
        "mac-eui-64": "00:11:22:ff:fe:aa:bb:cc", "mime-type": "application/x-dosexec",
        "mutex": "Global\\evil_mutex", "cpe": "cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*",
        "regkey": "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\evil",
        "regkey|value": "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\evil|C:\\evil.exe",
        "filename": "evil.dll", "filename-pattern": "*.evil.dll",
        "x509-fingerprint-sha1": HEX[:40], "x509-fingerprint-md5": HEX[:32], "x509-fingerprint-sha256": HEX[:64],
    }.get(t, "value of " + t)


def attribute(n, t, value, category="Network activity", **extra):
    a = {"id": str(1000 + n), "event_id": "42", "object_id": "0", "object_relation": None,
         "category": category, "type": t, "value": value, "to_ids": True,
         "uuid": "5f1e0000-0000-4000-8000-%012d" % n, "timestamp": "1700000000",
         "distribution": "5", "sharing_group_id": "0", "comment": "", "deleted": False,
         "disable_correlation": False, "first_seen": None, "last_seen": None,
         "Event": {"org_id": "1", "distribution": "3", "id": "42", "info": "golden event",
                   "orgc_id": "2", "uuid": "5f1e0000-0000-4000-8000-eeeeeeeeeeee"}}
    a.update(extra)
    return a


def threat_attributes():
    d = json.load(open(os.path.join(REF, "misp", "describeTypes.json")))["result"]
    # every type MISP knows, one attribute each
    for n, t in enumerate(sorted(d["types"])):
        cat = d["sane_defaults"][t]["default_category"]
        write(os.path.join(ATTR, "types"), file_name(t), attribute(n, t, value_for(t), cat))
    # types MISP may add: Elastic's prefix rules
    for n, (t, v) in enumerate([("filename|sha3-999", "a.exe|abcd"), ("filename-regex", ".*\\.exe"),
                                ("email-cc", "cc@corp.example"), ("domain-pattern", "*.evil.example"),
                                ("brand-new-type", "something")]):
        write(os.path.join(ATTR, "unknown-types"), file_name(t), attribute(300 + n, t, v))
    # values that need reading
    values = [
        ("ipv6-dst", "ip-dst", "2001:db8::1"), ("ipv6-dst-port", "ip-dst|port", "2001:db8::1|443"),
        ("cidr-src", "ip-src", "10.0.0.0/8"), ("ipv6-cidr", "ip-dst", "2001:db8::/32"),
        ("ip-not-an-ip", "ip-src", "not-an-ip"), ("ip-port-bad-port", "ip-dst|port", "192.0.2.1|99999"),
        ("ip-port-no-pipe", "ip-src|port", "192.0.2.1"), ("domain-ip-bad-ip", "domain|ip", "evil.example|999.1.1.1"),
        ("hostname-port-bad", "hostname|port", "c2.example|http"), ("as-prefixed", "AS", "AS174"),
        ("as-asdot", "AS", "1.10"), ("as-number-json", "AS", 13335), ("as-invalid", "AS", "ASN-foo"),
        ("as-too-big", "AS", "4294967296"), ("port-invalid", "port", "80/tcp"),
        ("filename-md5-no-pipe", "filename|md5", "only-a-name.exe"), ("regkey-value-no-pipe", "regkey|value", "HKLM\\Run"),
        ("uri-absolute", "uri", "http://druigvsegdaryadom.ir/index.php"), ("url-unparsable", "url", "ht!tp://[bad"),
        ("url-userinfo-port", "url", "ftp://user:pw@files.example:2121/a/b.tar.gz"),
        ("value-object", "md5", {"x": 1}), ("value-missing", "md5", None), ("type-number", 7, "v"),
        ("ssdeep-with-colons", "ssdeep", FUZZY["ssdeep"]),
    ]
    for n, (name, t, v) in enumerate(values):
        a = attribute(400 + n, t, v)
        if v is None:
            del a["value"]
        write(os.path.join(ATTR, "values"), name, a)
    # first_seen / last_seen in every unit
    seen = [("seconds", "1581984000"), ("milliseconds", "1581984000000"), ("microseconds", "1581984000000000"),
            ("nanoseconds", "1581984000000000000"), ("iso-misp", "2020-02-18T00:00:00.000000+00:00"),
            ("iso-offset", "2020-02-18T02:00:00+02:00"), ("iso-z", "2020-02-18T00:00:00Z"),
            ("number-seconds", 1581984000), ("number-micros", 1581984000000000), ("decimal-seconds", "1581984000.5")]
    for n, (name, v) in enumerate(seen):
        write(os.path.join(ATTR, "seen"), name, attribute(500 + n, "ip-dst", "203.0.113.9", first_seen=v, last_seen=v))
    # expiration rules
    ex = os.path.join(ATTR, "expiry")
    score = lambda *ds: [{"score": 10.0 if x else 60.0, "base_score": 80, "decayed": x,
                          "DecayingModel": {"id": str(i + 1), "name": "model %d" % i}} for i, x in enumerate(ds)]
    conf = lambda a, dur: {"message": json.dumps(a), "_conf": {"ioc_expiration_duration": dur}}
    recent = {"timestamp": "1767139200"}  # 2025-12-31T00:00:00Z
    write(ex, "decay-all-decayed", attribute(600, "ip-dst", "203.0.113.9", decay_score=score(True, True)))
    write(ex, "decay-one-of-two-is-decayed", attribute(601, "ip-dst", "203.0.113.9", decay_score=score(True, False), **recent))
    write(ex, "decay-one-of-three-falls-to-duration", attribute(602, "ip-dst", "203.0.113.9", decay_score=score(True, False, False), **recent))
    write(ex, "decay-none-decayed-falls-to-duration", attribute(603, "ip-dst", "203.0.113.9", decay_score=score(False), **recent))
    write(ex, "decay-empty-list", attribute(604, "ip-dst", "203.0.113.9", decay_score=[], **recent))
    write(ex, "default-90d-old-is-decayed", attribute(605, "ip-dst", "203.0.113.9"))
    write(ex, "default-90d-recent-is-active", attribute(606, "ip-dst", "203.0.113.9", **recent))
    write(ex, "last-seen-after-timestamp-wins", attribute(607, "ip-dst", "203.0.113.9", last_seen="2025-12-30T12:00:00.000000+00:00"))
    write(ex, "last-seen-before-timestamp", attribute(608, "ip-dst", "203.0.113.9", last_seen="2020-01-01T00:00:00.000000+00:00", **recent))
    for dur in ["5d", "12h", "30m", "45s", "2w"]:
        write(ex, "conf-" + dur, conf(attribute(610, "ip-dst", "203.0.113.9", **recent), dur))
    write(ex, "option-12h", attribute(611, "ip-dst", "203.0.113.9", **recent),
          options={"now": "2026-01-01T00:00:00Z", "ioc_expiration_duration": "12h"})
    write(ex, "conf-overrides-option", conf(attribute(612, "ip-dst", "203.0.113.9", **recent), "3d"),
          options={"now": "2026-01-01T00:00:00Z", "ioc_expiration_duration": "12h"})
    write(ex, "conf-bad-unit-10y", conf(attribute(613, "ip-dst", "203.0.113.9", **recent), "10y"))
    write(ex, "conf-bad-unit-upper-D", conf(attribute(614, "ip-dst", "203.0.113.9", **recent), "5D"))
    write(ex, "conf-bad-number-1.5d", conf(attribute(615, "ip-dst", "203.0.113.9", **recent), "1.5d"))
    write(ex, "conf-empty-uses-option", conf(attribute(616, "ip-dst", "203.0.113.9", **recent), ""))
    write(ex, "conf-out-of-range", conf(attribute(617, "ip-dst", "203.0.113.9", **recent), "9999999999999d"))
    no_ts = attribute(618, "ip-dst", "203.0.113.9")
    del no_ts["timestamp"]
    write(ex, "no-timestamp-counts-from-now", no_ts)
    # whole responses
    wr = os.path.join(ATTR, "responses")
    three = [attribute(700, "ip-src", "198.51.100.7"), attribute(701, "domain", "evil.example"),
             attribute(702, "text", "free text")]
    write(wr, "response-three-attributes", {"response": {"Attribute": three}})
    write(wr, "response-empty-list", {"response": []})
    write(wr, "response-empty-attribute-list", {"response": {"Attribute": []}})
    write(wr, "pymisp-attribute-list", {"Attribute": three[:2]})
    write(wr, "bare-array", three[1:])
    write(wr, "response-with-a-bad-item", {"response": {"Attribute": [three[0], "not an attribute", 5]}})
    write(wr, "response-in-message-envelope", {"message": json.dumps({"response": {"Attribute": three[:2]}}),
                                               "tags": ["preserve_original_event", "forwarded"],
                                               "_conf": {"ioc_expiration_duration": "5d"}})
    # errors
    er = os.path.join(ATTR, "errors")
    write(er, "invalid-json", '{"id": "1", "type": "md5", "value": ', raw=True)
    write(er, "invalid-json-in-message", {"message": "{not json", "tags": ["forwarded"]})
    write(er, "record-is-a-string", "just a string")
    write(er, "record-is-a-number", 42)
    write(er, "response-is-a-string", {"response": "nope"})
    write(er, "bad-timestamp", attribute(800, "md5", HEX[:32], timestamp="yesterday"))
    write(er, "bad-first-seen", attribute(801, "md5", HEX[:32], first_seen="last tuesday"))
    write(er, "event-not-object", attribute(802, "md5", HEX[:32], Event="42"))
    write(er, "object-not-object", attribute(803, "md5", HEX[:32], Object=["x"]))
    write(er, "tag-not-list", attribute(804, "md5", HEX[:32], Tag="tlp:red"))
    a = attribute(805, "md5", HEX[:32], distribution="five")
    a["Event"].update({"analysis": "complete", "timestamp": "soon", "threat_level_id": "high", "attribute_count": None})
    write(er, "non-numeric-enums-and-dates", a)
    write(er, "nulls-and-wrong-types-everywhere", {"id": None, "uuid": 5, "type": "ip-src", "value": "198.51.100.7",
                                                   "timestamp": None, "first_seen": [], "last_seen": {}, "Event": None,
                                                   "Tag": [None, 3, {"name": None}, {"name": "tlp:amber"}],
                                                   "decay_score": "high", "Object": None, "distribution": None})
    write(er, "huge-and-negative-numbers", attribute(806, "AS", 1e308, timestamp=-1, first_seen=-5, last_seen=1e300,
                                                     distribution=-3))
    # tags, TLP, user, context
    tg = os.path.join(ATTR, "tags")
    tags = [{"id": "1", "name": "tlp:amber", "inherited": 1}, {"id": "2", "name": "misp-galaxy:threat-actor=\"APT 28\""},
            {"id": "1", "name": "tlp:amber"}, {"id": "3", "name": "TLP:CLEAR"}, {"id": "4", "name": "type:OSINT"}]
    a = attribute(900, "ip-dst", "203.0.113.9", Tag=tags)
    a["Event"]["event_creator_email"] = "analyst@corp.example"
    write(tg, "tags-tlp-dedup-creator", a, options={"now": "2026-01-01T00:00:00Z", "tags": ["forwarded", "misp-threat_attributes"]})
    write(tg, "tags-without-tlp", attribute(901, "ip-dst", "203.0.113.9", Tag=[{"name": "type:OSINT"}]))
    # identity
    write(os.path.join(ATTR, "identity"), "key-and-fingerprint", attribute(950, "md5", HEX[:32]),
          options={"now": "2026-01-01T00:00:00Z", "identity": True})
    no_uuid = attribute(951, "md5", HEX[:32])
    del no_uuid["uuid"]
    del no_uuid["Event"]["uuid"]
    write(os.path.join(ATTR, "identity"), "key-from-ids", no_uuid, options={"now": "2026-01-01T00:00:00Z", "identity": True})
    # Elastic's pipeline test, one case per line, wrapped as the parity tool sends it
    log = os.path.join(ELASTIC, "threat_attributes", "_dev", "test", "pipeline", "test-misp-sample-ndjson.log")
    for i, line in enumerate(l for l in open(log, encoding="utf-8") if l.strip()):
        write(os.path.join(ATTR, "elastic"), "sample-%02d" % (i + 1),
              {"message": line.rstrip("\n"), "tags": ["preserve_original_event"],
               "_conf": {"ioc_expiration_duration": "5d"}})


def event(attrs, objects, **extra):
    e = {"id": "3636", "uuid": "81aea1d1-bb23-4bcd-9b0c-496e9ce028df", "info": "golden event", "date": "2021-05-28",
         "timestamp": "1622200781", "publish_timestamp": "1622200800", "published": True, "analysis": "2",
         "threat_level_id": "1", "distribution": "3", "attribute_count": str(len(attrs)), "org_id": "1", "orgc_id": "2",
         "sharing_group_id": "0", "extends_uuid": "", "locked": False, "proposal_email_lock": False,
         "disable_correlation": False, "event_creator_email": "admin@admin.test",
         "Org": {"id": "1", "name": "ORGNAME", "uuid": "78acad2d-cc2d-4785-94d6-b428a0070488", "local": True},
         "Orgc": {"id": "2", "name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f", "local": False},
         "Tag": [{"id": "2", "name": "tlp:green"}, {"id": "1", "name": "type:OSINT"}, {"id": "2", "name": "tlp:green"}],
         "Galaxy": [], "RelatedEvent": [], "ShadowAttribute": [], "EventReport": [],
         "Attribute": attrs, "Object": objects}
    e.update(extra)
    return {"Event": e}


def ev_attr(n, t, v, **extra):
    a = attribute(n, t, v, **extra)
    del a["Event"]
    a["event_id"] = "3636"
    a["Galaxy"] = []
    a["ShadowAttribute"] = []
    return a


def obj(n, name, attrs):
    for a in attrs:
        a["object_id"] = str(n)
    return {"id": str(n), "name": name, "meta-category": "file", "description": name + " object",
            "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215", "template_version": "22", "event_id": "3636",
            "uuid": "0b1e0000-0000-4000-8000-%012d" % n, "timestamp": "1622200348", "distribution": "5",
            "sharing_group_id": "0", "comment": "", "deleted": False, "first_seen": None, "last_seen": None,
            "ObjectReference": [], "Attribute": attrs}


def threat():
    # Elastic's pipeline tests, one case per line
    base = os.path.join(ELASTIC, "threat", "_dev", "test", "pipeline")
    for stem, tags in [("sample", ["preserve_original_event"]), ("long", [])]:
        log = os.path.join(base, "test-misp-%s-ndjson.log" % stem)
        for i, line in enumerate(l for l in open(log, encoding="utf-8") if l.strip()):
            rec = {"message": line.rstrip("\n")}
            if tags:
                rec["tags"] = tags
            write(os.path.join(THREAT, "elastic"), "%s-%02d" % (stem, i + 1), rec)
    ev = os.path.join(THREAT, "events")
    attrs = [ev_attr(1, "ip-dst", "203.0.113.9"), ev_attr(2, "domain", "evil.example"),
             ev_attr(3, "windows-service-name", "badsvc")]
    objects = [obj(10, "file", [ev_attr(11, "filename", "evil.dll", object_relation="filename"),
                                ev_attr(12, "sha256", HEX[:64], object_relation="sha256")]),
               obj(20, "ip-port", [ev_attr(21, "ip-dst", "2001:db8::7", object_relation="ip"),
                                   ev_attr(22, "port", "8443", object_relation="dst-port")])]
    write(ev, "whole-event-with-objects", event(attrs, objects))
    write(ev, "whole-event-no-objects", event(attrs[:2], []))
    write(ev, "whole-event-objects-only", event([], objects[:1]))
    write(ev, "whole-event-one-and-one", event(attrs[:1], [obj(10, "file", [ev_attr(11, "md5", HEX[:32])])]))
    write(ev, "whole-event-no-attributes", event([], []))
    write(ev, "whole-response-two-events", {"response": [event(attrs[:2], []), event(attrs[2:], objects[1:], uuid="second-event-uuid", id="3637")]})
    write(ev, "pymisp-list", [event(attrs[:1], [])])
    write(ev, "response-empty", {"response": []})
    write(ev, "post-split-attribute-and-object", event(attrs[2], dict(objects[0], Attribute=objects[0]["Attribute"][1])))
    write(ev, "post-split-object-only", event([], dict(objects[1], Attribute=objects[1]["Attribute"][0])))
    write(ev, "post-split-attribute-only", event(attrs[0], []))
    write(ev, "mixed-single-attribute-object-list", event(attrs[0], objects[:1]))
    write(ev, "whole-event-in-message-with-conf", {"message": json.dumps(event(attrs[:2], objects[:1])),
                                                   "tags": ["preserve_original_event"],
                                                   "_conf": {"ioc_expiration_duration": "30d"}})
    # one attribute of every row class, and the value fixes for the threat data set
    d = json.load(open(os.path.join(REF, "misp", "describeTypes.json")))["result"]
    rows = ["md5", "sha512/256", "filename", "filename|sha3-256", "filename|sha512/256", "malware-sample", "url",
            "uri", "link", "regkey", "regkey|value", "AS", "domain", "hostname", "domain|ip", "hostname|port",
            "ip-src", "ip-dst|port", "email-src", "email", "email-subject", "email-body", "email-attachment",
            "mac-address", "mime-type", "port", "mutex", "cpe", "filename-pattern", "x509-fingerprint-sha1",
            "text", "comment"]
    row_attrs = [ev_attr(100 + i, t, value_for(t), category=d["sane_defaults"][t]["default_category"])
                 for i, t in enumerate(rows)]
    row_attrs += [ev_attr(150, "ip-dst", "2001:db8::1"), ev_attr(151, "AS", "AS174"),
                  ev_attr(152, "ip-src", "10.0.0.0/8"),
                  ev_attr(153, "ip-dst", "203.0.113.9", first_seen="1581984000", last_seen="1581984000000"),
                  ev_attr(154, "ip-dst", "203.0.113.9", first_seen="2020-02-18T00:00:00.000000+00:00",
                          last_seen="2025-12-30T00:00:00.000000+00:00")]
    write(os.path.join(THREAT, "types"), "every-row-class", event(row_attrs, []))
    # expiration
    ex = os.path.join(THREAT, "expiry")
    recent = event([ev_attr(1, "ip-dst", "203.0.113.9", timestamp="1767139200")], [])
    write(ex, "recent-attribute-is-active", recent)
    write(ex, "conf-5d", {"message": json.dumps(recent), "_conf": {"ioc_expiration_duration": "5d"}})
    write(ex, "conf-bad-unit", {"message": json.dumps(recent), "_conf": {"ioc_expiration_duration": "3y"}})
    write(ex, "option-2w", recent, options={"now": "2026-01-01T00:00:00Z", "ioc_expiration_duration": "2w"})
    write(ex, "decay-score-on-event-attribute",
          event([ev_attr(1, "ip-dst", "203.0.113.9", decay_score=[{"decayed": True, "score": 0}])], []))
    write(ex, "last-seen-in-future", event([ev_attr(1, "ip-dst", "203.0.113.9", last_seen="2025-12-31T00:00:00Z")], []))
    # errors
    er = os.path.join(THREAT, "errors")
    write(er, "invalid-json", '{"Event": {"id": "1", ', raw=True)
    write(er, "event-not-object", {"Event": "nope"})
    write(er, "no-event-no-response", {"Attribute": []})
    write(er, "response-not-list", {"response": {"Attribute": []}})
    write(er, "record-is-a-number", 7)
    write(er, "bad-items-in-lists", event(["not an attribute", ev_attr(1, "md5", HEX[:32])], [5]))
    write(er, "bad-response-item", {"response": [{"NotEvent": 1}, event([ev_attr(1, "md5", HEX[:32])], [])]})
    write(er, "bad-dates-and-numbers", event([ev_attr(1, "md5", HEX[:32], timestamp="x", first_seen="y", distribution="z")], [],
                                             timestamp="later", publish_timestamp="never", analysis="done",
                                             threat_level_id="high", Orgc="CIRCL", Tag="tlp:red"))
    write(er, "bad-type-and-values", event([ev_attr(1, "AS", "ASN-foo"), ev_attr(2, "ip-dst|port", "1.2.3.4"),
                                            ev_attr(3, 5, "x"), ev_attr(4, "md5", ["a"])], []))
    write(os.path.join(THREAT, "identity"), "key-and-fingerprint", event(attrs[:1], objects[:1]),
          options={"now": "2026-01-01T00:00:00Z", "identity": True})


if __name__ == "__main__":
    threat_attributes()
    threat()
