# Writes openapi.json, the API document tests/api.rs holds the server to:
#   python3 openapi.py > openapi.json
# Edit here, not in the JSON.
import json
def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def arr(x): return {"type":"array","items":x}
def obj(props, required=None, extra=True):
    o={"type":"object","properties":props}
    o["required"]=required if required is not None else list(props.keys())
    if not extra: o["additionalProperties"]=False
    return o
S={"type":"string"}; I={"type":"integer"}; B={"type":"boolean"}; N={"type":"number"}
def nullable(t): return {"type":[t["type"],"null"]} if "type" in t else {"anyOf":[t,{"type":"null"}]}
def json_resp(schema, desc="OK"): return {"description":desc,"content":{"application/json":{"schema":schema}}}
err={"$ref":"#/components/responses/Error"}
def errs(*codes): return {str(c): err for c in codes}
def op(summary, ok, codes, params=None, body=None, status="200", security=True, tag=None):
    o={"summary":summary,"responses":{status: ok, **errs(*codes)}}
    if params: o["parameters"]=params
    if body: o["requestBody"]={"required":True,"content":{"application/json":{"schema":body}}}
    if not security: o["security"]=[]
    return o
def p(name, where="path", schema=S, required=None, desc=None):
    d={"name":name,"in":where,"required": (where=="path") if required is None else required,"schema":schema}
    if desc: d["description"]=desc
    return d
AUTH=(401,)
spec={
 "openapi":"3.1.0",
 "info":{"title":"tacit team server","version":"1","description":"The library of SOPs, runs, proposals and reviews, for the whole team. Every /api route except the OpenAPI document needs `Authorization: Bearer <token>`; errors answer `{\"error\": {\"code\", \"message\"}}`."},
 "components":{
  "securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}},
  "responses":{"Error":{"description":"An error","content":{"application/json":{"schema":ref("Error")}}}},
  "schemas":{
   "Error": obj({"error": obj({"code":S,"message":S})}),
   "Caller": obj({"user":S,"role":{"type":"string","enum":["viewer","operator","owner","admin"]},"token_id":nullable(S)}),
   "Health": obj({"id":S,"title":S,"version":I,"owner":nullable(S),"last_run_ms":nullable(I),"last_success_ms":nullable(I),"success_rate":nullable(N),"pending_proposals":I,"review_due_ms":nullable(I),"review_overdue":B,"drift":arr(S),"never_run":B,"single_person":B,"trust":I,"problems":arr(S),"notes":arr(S),"snippet":S},
       required=["id","title","version","owner","trust","review_overdue","pending_proposals","problems","notes"]),
   "SopDocument": {"type":"object","description":"An SOP as tacit's schema-versioned JSON (the same as `tacit export --format json`).","properties":{"schema_version":I,"sop":{"type":"object","properties":{"id":S,"title":S,"version":I,"owner":nullable(S),"steps":arr({"type":"object","properties":{"title":S,"commands":arr(S)},"required":["title","commands"]}),"rules":arr({"type":"object"}),"revisions":arr({"type":"object"})},"required":["id","title","version","steps","rules","revisions"]}},"required":["schema_version","sop"]},
   "HistoryEntry": obj({"sop_id":S,"version":I,"title":S,"created_at_ms":I,"author":S,"summary":S,"metadata_only":B}),
   "Proposal": obj({"id":S,"sop_id":S,"sop_version":I,"run_id":S,"kind":S,"summary":S,"body":S,"status":{"type":"string","enum":["pending","accepted","rejected"]},"created_at_ms":I,"resolution":nullable(S)}),
   "RunMeta": {"type":"object","properties":{"id":S,"name":S,"shell":S,"started_at_ms":I,"status":S,"user":S},"required":["id","name","shell","started_at_ms","status","user"]},
   "RunSummary": {"type":"object","properties":{"id":S,"name":S,"status":S,"user":S,"started_at_ms":I,"commands":I,"failed_commands":I,"answers":I,"outcome":S},"required":["id","name","status","user","started_at_ms","commands","failed_commands","answers"]},
   "RunEvidence": obj({"format":{"type":"string","const":"tacit-run"},"format_version":I,"run":ref("RunMeta"),"chain":{"type":"object","properties":{"intact":B,"head":S,"problem":S},"required":["intact"]},"events":arr({"type":"object","properties":{"seq":I,"at_ms":I,"kind":S,"hash":nullable(S)},"required":["seq","at_ms","kind"]})}),
   "User": obj({"name":S,"role":S,"created_at_ms":I,"disabled":B}),
   "Token": obj({"id":S,"user":S,"label":S,"scope":S,"created_at_ms":I,"expires_at_ms":nullable(I),"revoked_at_ms":nullable(I),"last_used_ms":nullable(I)}),
   "NewToken": {"allOf":[ref("Token"), obj({"secret":S})]},
   "Team": obj({"name":S,"members":arr(S)}),
   "Event": {"type":"object","properties":{"seq":{"type":"integer","minimum":1},"at_ms":I,"kind":S},"required":["seq","at_ms","kind"]},
   "RunUpload": obj({"meta":ref("RunMeta"),"events":arr(obj({"event":ref("Event"),"hash":nullable(S)},required=["event"],extra=False))}, extra=False),
   "VersionUpload": obj({"sop_id":S,"version":{"type":"integer","minimum":1},"author":S,"summary":S,"body":{"type":"string","description":"the SOP as tacit's JSON, exactly as stored"}}, extra=False),
   "VersionOutcome": {"type":"object","properties":{"outcome":{"type":"string","enum":["stored","already_there","proposed"]},"proposal":S},"required":["outcome"]},
   "Decision": obj({"base_version":{"type":"integer","minimum":0},"reason":S}, required=["base_version"], extra=False),
  }},
 "security":[{"bearer":[]}],
 "paths":{}
}
ID=p("id"); VER=p("version","query",I,False,"a past version (default: the latest)")
paths=spec["paths"]
paths["/healthz"]={"get":op("Whether the server and its database answer", json_resp(obj({"status":S})), (503,), security=False)}
paths["/api/openapi.json"]={"get":op("This document", json_resp({"type":"object"}), (), security=False)}
paths["/api/me"]={"get":op("Who the token belongs to, and the role it acts with", json_resp(ref("Caller")), AUTH)}
paths["/api/sops"]={"get":op("The library: every SOP with its health, worst first (or by relevance with q)", json_resp(obj({"sops":arr(ref("Health"))})), AUTH+(400,403), params=[p("q","query",S,False,"search words, all required"),p("owner","query",S,False),p("overdue","query",{"type":"string","enum":["true","false"]},False),p("trust_below","query",I,False)])}
paths["/api/sops/{id}"]={"get":op("One SOP version", {"description":"The SOP","content":{"application/json":{"schema":ref("SopDocument")},"text/markdown":{"schema":S}}}, AUTH+(400,403,404), params=[ID,VER,p("format","query",{"type":"string","enum":["json","md"]},False)])}
paths["/api/sops/{id}/versions"]={"get":op("Every version, oldest first", json_resp(obj({"versions":arr(ref("HistoryEntry"))})), AUTH+(403,404), params=[ID])}
paths["/api/sops/{id}/diff"]={"get":op("What changed between two versions (default: the latest and the one before)", json_resp(obj({"from":I,"to":I,"lines":arr(obj({"mark":{"type":"string","enum":["added","removed","changed","same"]},"text":S}))})), AUTH+(400,403,404), params=[ID,p("from","query",I,False),p("to","query",I,False)])}
paths["/api/sops/{id}/proposals"]={"get":op("What runs proposed to the SOP's owner", json_resp(obj({"proposals":arr(ref("Proposal"))})), AUTH+(403,404), params=[ID])}
PR=p("proposal")
paths["/api/sops/{id}/proposals/{proposal}/accept"]={"post":op("Accept a proposal (its owner or an admin); refused with 409 when the SOP changed since base_version", json_resp(obj({"accepted":S,"change":S,"version":nullable(I)})), AUTH+(400,403,404,409,413,415,422), params=[ID,PR], body=ref("Decision"))}
paths["/api/sops/{id}/proposals/{proposal}/reject"]={"post":op("Reject a proposal with its reason (kept, so it is not raised again)", json_resp(obj({"rejected":S})), AUTH+(400,403,404,409,413,415,422), params=[ID,PR], body=ref("Decision"))}
paths["/api/sops/{id}/reviewed"]={"post":op("Confirm the latest version is still true", json_resp(obj({"sop_id":S,"version":I,"reviewer":S,"next_due_ms":nullable(I)})), AUTH+(403,404), params=[ID])}
paths["/api/sops/{id}/owner"]={"put":op("Set the owner (a person or team) and the review interval", json_resp(obj({"id":S,"version":I,"summary":S})), AUTH+(400,403,404,409,413,415,422), params=[ID], body=obj({"owner":S,"review_every":S},required=["owner"],extra=False))}
paths["/api/search"]={"get":op("Full-text search over the latest versions", json_resp(obj({"hits":arr(obj({"id":S,"title":S,"snippet":S}))})), AUTH+(403,), params=[p("q","query",S,True)])}
paths["/api/status"]={"get":op("Every SOP's health, worst first", json_resp(obj({"sops":arr(ref("Health"))})), AUTH+(403,))}
paths["/api/runs"]={"get":op("Runs, newest first", json_resp(obj({"runs":arr(ref("RunSummary"))})), AUTH+(403,), params=[p("name","query",S,False)])}
paths["/api/runs/{id}"]={"get":op("A run with every event and its hash chain's verdict", json_resp(ref("RunEvidence")), AUTH+(400,403,404), params=[p("id",desc="a run id, a unique part of it, or latest")])}
paths["/api/teams"]={"get":op("Teams and their members", json_resp(obj({"teams":arr(ref("Team"))})), AUTH+(403,))}
paths["/api/teams/{name}"]={"put":op("Create or change a team (admin)", json_resp(ref("Team")), AUTH+(400,403,413,415,422), params=[p("name")], body=obj({"members":arr(S)},extra=False))}
paths["/api/users"]={"get":op("Accounts (admin)", json_resp(obj({"users":arr(ref("User"))})), AUTH+(403,)),
  "post":op("Create an account (admin)", json_resp(ref("User"),"Created"), AUTH+(400,403,409,413,415,422), body=obj({"name":S,"role":{"type":"string","enum":["viewer","operator","owner","admin"]},"password":S},required=["name","role"],extra=False), status="201")}
paths["/api/tokens"]={"get":op("The caller's API tokens (never their secrets)", json_resp(obj({"tokens":arr(ref("Token"))})), AUTH),
  "post":op("Create an API token; its secret is in this response only", json_resp(ref("NewToken"),"Created"), AUTH+(400,403,404,413,415,422), body=obj({"label":S,"scope":{"type":"string","enum":["viewer","operator","owner","admin"]},"ttl_days":{"type":"integer","minimum":1}},required=["label"],extra=False), status="201")}
paths["/api/tokens/{id}"]={"delete":op("Revoke one of the caller's tokens", json_resp(obj({"revoked":S})), AUTH+(404,), params=[ID])}
SYNC_W=AUTH+(400,403,404,413,415,422)
paths["/api/sync/runs"]={"get":op("Every run the server has, with how many events it holds (for `tacit sync`)", json_resp(obj({"runs":{"type":"object","additionalProperties":I}})), AUTH+(403,)),
  "post":op("Send a run, or more of its events (operator; idempotent by run id and event seq; redacted again here)", json_resp(obj({"run":S,"events":I})), SYNC_W, body=ref("RunUpload"))}
paths["/api/sync/runs/{id}"]={"get":op("A run as `tacit sync` fetches it: its meta and every event with its hash link", json_resp(ref("RunUpload")), AUTH+(400,403,404), params=[p("id",desc="the run's full id")])}
paths["/api/sync/versions"]={"get":op("Every version of every SOP with its body's SHA-256", json_resp(obj({"versions":arr(obj({"sop_id":S,"version":I,"fingerprint":S}))})), AUTH+(403,)),
  "post":op("Send an SOP version: appended when the histories agree and the caller may change the SOP, otherwise filed as a proposal for its owner", json_resp(ref("VersionOutcome")), SYNC_W, body=ref("VersionUpload"))}
paths["/api/sync/versions/{id}/{version}"]={"get":op("One version with its body, exactly as stored", json_resp(ref("VersionUpload")), AUTH+(400,403,404), params=[ID,p("version","path",I)])}
paths["/api/sync/proposals"]={"post":op("Send a proposal a local guided run made (operator; it arrives pending, whatever it says)", json_resp(obj({"proposal":S})), SYNC_W, body=ref("Proposal"))}
print(json.dumps(spec, indent=2))
