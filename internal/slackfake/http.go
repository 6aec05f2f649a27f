package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// request is a parsed Web API call.
type request struct {
	method string
	params map[string]string
	token  string
	// tokenInHeader is set when the token came from the Authorization
	// header rather than a form field.
	tokenInHeader bool
	ctx           context.Context
}

func (r *request) get(key string) string { return r.params[key] }

// flag reports whether a boolean parameter is set ("true" or "1").
func (r *request) flag(key string) bool {
	v := r.params[key]
	return v == "true" || v == "1"
}

// result is a JSON object to answer with. Handlers return success(...) or
// apiErr(...).
type result map[string]any

func success(fields result) result {
	if fields == nil {
		fields = result{}
	}
	fields["ok"] = true
	return fields
}

func apiErr(code string) result { return result{"ok": false, "error": code} }

type handler func(s *Server, r *request) result

var handlers = map[string]handler{
	"auth.test":              (*Server).authTest,
	"users.info":             (*Server).usersInfo,
	"conversations.create":   (*Server).conversationsCreate,
	"conversations.invite":   (*Server).conversationsInvite,
	"conversations.join":     (*Server).conversationsJoin,
	"conversations.setTopic": (*Server).conversationsSetTopic,
	"conversations.info":     (*Server).conversationsInfo,
	"conversations.members":  (*Server).conversationsMembers,
	"conversations.archive":  (*Server).conversationsArchive,
	"conversations.list":     (*Server).conversationsList,
	"conversations.history":  (*Server).conversationsHistory,
	"conversations.open":     (*Server).conversationsOpen,
	"chat.postMessage":       (*Server).chatPostMessage,
	"chat.update":            (*Server).chatUpdate,
	"chat.postEphemeral":     (*Server).chatPostEphemeral,
	"chat.getPermalink":      (*Server).chatGetPermalink,
	"pins.add":               (*Server).pinsAdd,
	"pins.list":              (*Server).pinsList,
	"conversations.replies":  (*Server).conversationsReplies,
	"views.open":             (*Server).viewsOpen,
	"views.push":             (*Server).viewsPush,
	"views.update":           (*Server).viewsUpdate,
	"views.publish":          (*Server).viewsPublish,
	"apps.connections.open":  (*Server).appsConnectionsOpen,

	"files.getUploadURLExternal":   (*Server).filesGetUploadURLExternal,
	"files.completeUploadExternal": (*Server).filesCompleteUploadExternal,
	"files.info":                   (*Server).filesInfo,
}

// handleAPI serves /api/<method>.
func (s *Server) handleAPI(w http.ResponseWriter, hr *http.Request) {
	method := strings.TrimPrefix(hr.URL.Path, "/api/")
	req, parseErr, charsetWarning := parseRequest(hr)
	req.method = method

	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Params: cloneParams(req.params), Token: req.token, At: s.clock()})
	f, failing := s.takeFailureLocked(method)
	s.mu.Unlock()

	if failing && !f.Lost && f.Then != nil {
		f.Then()
	}
	if failing && !injectFailure(w, hr, f) {
		return
	}
	if s.latency > 0 && !sleep(hr.Context(), s.latency) {
		return
	}

	h, known := handlers[method]
	var res result
	switch {
	case !known:
		res = apiErr("unknown_method")
		res["req_method"] = method
	case parseErr != "":
		res = apiErr(parseErr)
	case req.token == "":
		res = apiErr("not_authed")
	case method == appsConnectionsOpen:
		res = s.appTokenAuth(req)
	case req.token == s.appToken:
		// An app-level token only opens Socket Mode connections.
		res = apiErr("not_allowed_token_type")
	case req.token != s.botToken:
		res = apiErr("invalid_auth")
	}
	if res == nil {
		// Slack counts the calls of an app, so only authenticated calls
		// count against its limits.
		if wait := s.limits.take(method, req.get("channel")); wait > 0 {
			writeRateLimited(w, wait)
			return
		}
		s.mu.Lock()
		if need := s.neededScopeLocked(req); need != "" && !slices.Contains(s.scopes, need) {
			res = s.missingScope(need)
		} else {
			res = h(s, req)
		}
		s.mu.Unlock()
	}
	s.deliverShared()
	if charsetWarning {
		addWarning(res, "missing_charset")
	}
	if failing && f.Lost {
		if f.Then != nil {
			f.Then()
		}
		panic(http.ErrAbortHandler) // the work is done; the answer is lost
	}
	writeJSON(w, http.StatusOK, res)
}

// injectFailure applies an injected failure. It reports whether handling
// should continue normally (a pure delay).
func injectFailure(w http.ResponseWriter, hr *http.Request, f Failure) bool {
	if f.Delay > 0 && !sleep(hr.Context(), f.Delay) {
		return false
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		writeRateLimited(w, f.RetryAfter)
		return false
	case f.Status != 0:
		code := "internal_error"
		if f.Error != "" {
			code = f.Error
		}
		writeJSON(w, f.Status, apiErr(code))
		return false
	case f.Error != "":
		writeJSON(w, http.StatusOK, apiErr(f.Error))
		return false
	}
	return true
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func addWarning(res result, code string) {
	if w, _ := res["warning"].(string); w != "" {
		res["warning"] = w + "," + code
	} else {
		res["warning"] = code
	}
	md, _ := res["response_metadata"].(result)
	if md == nil {
		md = result{}
		res["response_metadata"] = md
	}
	ws, _ := md["warnings"].([]string)
	md["warnings"] = append(ws, code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// parseRequest extracts parameters and the token. parseErr is a Slack error
// code for a malformed body. charsetWarning is set for a JSON body whose
// Content-Type has no charset (Slack then warns "missing_charset").
func parseRequest(hr *http.Request) (req *request, parseErr string, charsetWarning bool) {
	req = &request{params: map[string]string{}, ctx: hr.Context()}
	if auth := hr.Header.Get("Authorization"); auth != "" {
		if tok, found := strings.CutPrefix(auth, "Bearer "); found {
			req.token = strings.TrimSpace(tok)
			req.tokenInHeader = req.token != ""
		}
	}
	for k, vs := range hr.URL.Query() {
		if len(vs) > 0 {
			req.params[k] = vs[0]
		}
	}
	ctype, ctParams, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	switch {
	case hr.Method != http.MethodPost:
		// GET: parameters come from the query string only. Slack no longer
		// accepts tokens there, so only the header authenticates.
	case ctype == "application/json":
		charsetWarning = ctParams["charset"] == ""
		body, err := io.ReadAll(hr.Body)
		if err != nil {
			return req, "invalid_json", charsetWarning
		}
		if len(bytes.TrimSpace(body)) == 0 {
			// slack-go posts apps.connections.open with an empty JSON
			// body, which Slack accepts as no arguments.
			break
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return req, "invalid_json", charsetWarning
		}
		for k, raw := range obj {
			req.params[k] = jsonParam(raw)
		}
		// A token in a JSON body is not honoured by Slack: only the header.
	case ctype == "multipart/form-data":
		if err := hr.ParseMultipartForm(32 << 20); err != nil {
			return req, "invalid_form_data", false
		}
		mergeForm(req, hr.MultipartForm.Value)
	default:
		if err := hr.ParseForm(); err != nil {
			return req, "invalid_form_data", false
		}
		mergeForm(req, hr.PostForm)
	}
	return req, "", charsetWarning
}

func mergeForm(req *request, form url.Values) {
	for k, vs := range form {
		if len(vs) > 0 {
			req.params[k] = vs[0]
		}
	}
	if tok := form.Get("token"); tok != "" && req.token == "" {
		req.token = tok
	}
}

// jsonParam flattens a top-level JSON value: strings are unquoted, anything
// else is kept as compact JSON text.
func jsonParam(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// nextTSLocked returns a new message timestamp: the clock's time in
// Slack's "seconds.microseconds" form, bumped so that timestamps are unique
// and strictly increasing even when the clock stands still.
func (s *Server) nextTSLocked() string {
	us := s.clock().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return formatTS(us)
}

func formatTS(us int64) string { return fmt.Sprintf("%d.%06d", us/1e6, us%1e6) }

// parseTS parses a Slack timestamp ("1700000000.000100", or whole seconds)
// into microseconds.
func parseTS(ts string) (int64, bool) {
	secPart, frac, _ := strings.Cut(ts, ".")
	sec, err := strconv.ParseInt(secPart, 10, 64)
	if err != nil || sec < 0 {
		return 0, false
	}
	if len(frac) > 6 {
		frac = frac[:6]
	}
	var us int64
	if frac != "" {
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		us = f
	}
	return sec*1e6 + us, true
}
