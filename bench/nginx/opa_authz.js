// The "nginx asks OPA on every request" peer for bench/run.sh (scenario nginx+opa).
//
// js_content handler of the proxied location: builds the policy input in the shape Countersign
// gives the policy (docs/policy-contract.md, rego/schemas/input.json), POSTs it to OPA's
// /v1/data/countersign/decision as a subrequest to an internal proxy_pass location, and on
// result.action == "allow" hands the request (body included) to the proxy_pass location; anything
// else is a 403, and no answer from OPA is a 503 (fail closed, like Countersign).
//
// Why a subrequest and not ngx.fetch: Debian bookworm ships njs 0.7.9, whose ngx.fetch opens a new
// connection per call (fetch keep-alive came with njs 0.9.2); through proxy_pass, nginx keeps a
// keep-alive pool to OPA. Why js_content and not auth_request: auth_request runs before the body is
// read, and the policy needs the PATCH body.
//
// nginx variables it reads: $authz_route (route name), $authz_prefix (route prefix),
// $authz_agent (the agent id Countersign takes from its config).

var crypto = require('crypto');

// Headers Countersign never shows the policy (docs/canonicalization.md#6-headers).
var DROPPED = {
  connection: 1, 'keep-alive': 1, 'proxy-connection': 1, te: 1, trailer: 1,
  'transfer-encoding': 1, upgrade: 1, 'content-length': 1, expect: 1, host: 1,
  authorization: 1, 'proxy-authorization': 1, cookie: 1, forwarded: 1, 'x-real-ip': 1, via: 1
};

// Identity headers: they become input.caller, not input.request.headers.
var CALLER = {
  'x-countersign-workflow': 'workflow', 'x-countersign-run': 'run',
  'x-countersign-on-behalf-of': 'on_behalf_of', 'x-countersign-account': 'account',
  'x-countersign-tool': 'tool', 'x-countersign-prompt-ref': 'prompt_ref',
  'x-countersign-context-refs': 'context_refs'
};

var TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function hex(n) {
  var s = '';
  for (var i = 0; i < n; i++) {
    s += '0123456789abcdef'.charAt(Math.floor(Math.random() * 16));
  }
  return s;
}

function decodeQueryPart(s) {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

// name -> [values] in request order; empty pairs dropped.
function parseQuery(raw) {
  var query = {};
  if (!raw) {
    return query;
  }
  var pairs = raw.split('&');
  for (var i = 0; i < pairs.length; i++) {
    if (pairs[i] === '') {
      continue;
    }
    var eq = pairs[i].indexOf('=');
    var name = decodeQueryPart(eq < 0 ? pairs[i] : pairs[i].slice(0, eq));
    var value = eq < 0 ? '' : decodeQueryPart(pairs[i].slice(eq + 1));
    (query[name] = query[name] || []).push(value);
  }
  return query;
}

// Lower-case names, trimmed values, repeats joined with ", "; identity headers go to the caller.
function splitHeaders(raw, caller) {
  var headers = {};
  for (var i = 0; i < raw.length; i++) {
    var name = raw[i][0].toLowerCase();
    var value = raw[i][1].trim();
    if (CALLER[name]) {
      if (value !== '') {
        caller[CALLER[name]] = name === 'x-countersign-context-refs'
          ? value.split(',').map(function (v) { return v.trim(); }).filter(function (v) { return v !== ''; })
          : value;
      }
      continue;
    }
    if (DROPPED[name] || name.indexOf('x-forwarded-') === 0 || name.indexOf('x-countersign-') === 0) {
      continue;
    }
    headers[name] = headers[name] === undefined ? value : headers[name] + ', ' + value;
  }
  if (!headers.traceparent || !TRACEPARENT.test(headers.traceparent)) {
    headers.traceparent = '00-' + hex(32) + '-' + hex(16) + '-01';
    delete headers.tracestate;
  }
  return headers;
}

function jsonBody(r, bytes) {
  var type = (r.headersIn['Content-Type'] || '').split(';')[0].trim().toLowerCase();
  if (bytes.length === 0 || !(type === 'application/json' || /\+json$/.test(type))) {
    return null;
  }
  return JSON.parse(bytes.toString());
}

function policyInput(r) {
  var v = r.variables;
  var prefix = v.authz_prefix;
  var rest = r.uri.slice(prefix.length);
  var bytes = r.requestBuffer || Buffer.from('');
  var caller = {
    agent: v.authz_agent, workflow: null, run: null, on_behalf_of: null, account: null,
    tool: null, prompt_ref: null, context_refs: null
  };
  var headers = splitHeaders(r.rawHeadersIn, caller);
  return {
    request: {
      method: r.method,
      route: v.authz_route,
      path: r.uri,
      upstream_path: rest === '' ? '/' : rest,
      query: parseQuery(v.args),
      headers: headers,
      body: jsonBody(r, bytes),
      body_sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length
    },
    caller: caller,
    // nginx keeps no spend counters: the policy sees none spent (the bench raises the limits).
    context: { time: new Date().toISOString(), spend: {} }
  };
}

function deny(r, status, reason) {
  r.headersOut['Content-Type'] = 'application/json';
  r.return(status, JSON.stringify({ error: reason }) + '\n');
}

function check(r) {
  var body;
  try {
    body = JSON.stringify({ input: policyInput(r) });
  } catch (e) {
    deny(r, 400, 'bad_request: ' + e.message);
    return;
  }
  r.subrequest('/_opa_decision', { method: 'POST', body: body })
    .then(function (reply) {
      if (reply.status !== 200) {
        deny(r, 503, 'policy_unavailable: OPA answered ' + reply.status);
        return;
      }
      var decision = JSON.parse(reply.responseText).result;
      if (decision && decision.action === 'allow') {
        r.internalRedirect('@upstream');
        return;
      }
      deny(r, 403, 'policy_denied: ' + (decision ? decision.rule + ' (' + decision.action + ')' : 'undefined decision'));
    })
    .catch(function (e) {
      deny(r, 503, 'policy_unavailable: ' + e.message);
    });
}

export default { check: check };
