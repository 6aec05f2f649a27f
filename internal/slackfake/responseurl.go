package slackfake

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// response_url rules: Slack accepts up to 5 posts to a response_url within
// 30 minutes of its creation.
const (
	responseURLPath     = "/response-url/"
	responseURLMaxUses  = 5
	responseURLLifetime = 30 * time.Minute
)

type responseURL struct {
	created time.Time
	posts   []Response
}

// NewResponseURL returns a fresh response_url served by the fake (not under
// /api/), to put in the slash-command and interaction payloads a test
// delivers to the bot. The URL accepts POSTed JSON messages
// ({text, blocks, response_type, replace_original, delete_original,
// thread_ts}) as Slack does: blocks are validated, a message needs text or
// blocks (unless delete_original is set), and the URL stops working after 5
// posts (used_url) or 30 minutes (expired_url, by the server's clock). Each
// accepted post answers {"ok":true} and is recorded (see Responses).
func (s *Server) NewResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respOrder++
	u := s.srv.URL + responseURLPath + s.teamID + "/" + strconv.Itoa(s.respOrder)
	s.responseURLs[u] = &responseURL{created: s.clock()}
	return u
}

// Responses returns what was accepted at a response_url, in order.
func (s *Server) Responses(url string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responseURLs[url]
	if ru == nil {
		return nil
	}
	out := make([]Response, 0, len(ru.posts))
	for _, p := range ru.posts {
		p.Blocks = slices.Clone(p.Blocks)
		out = append(out, p)
	}
	return out
}

type responsePayload struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func (s *Server) handleResponseURL(w http.ResponseWriter, hr *http.Request) {
	url := s.srv.URL + hr.URL.Path
	body, readErr := io.ReadAll(hr.Body)
	params := map[string]string{}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		for k, v := range top {
			params[k] = jsonParam(v)
		}
	}
	params["url"] = url

	s.mu.Lock()
	now := s.clock()
	s.calls = append(s.calls, Call{Method: ResponseURLMethod, Params: params, At: now})
	f, failing := s.takeFailureLocked(ResponseURLMethod)
	s.mu.Unlock()

	if failing && !injectFailure(w, hr, f) {
		return
	}
	if hr.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, apiErr("invalid_method"))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responseURLs[url]
	if ru == nil {
		writeJSON(w, http.StatusNotFound, apiErr("invalid_url"))
		return
	}
	if now.Sub(ru.created) > responseURLLifetime {
		writeJSON(w, http.StatusOK, apiErr("expired_url"))
		return
	}
	if len(ru.posts) >= responseURLMaxUses {
		writeJSON(w, http.StatusOK, apiErr("used_url"))
		return
	}
	var p responsePayload
	if readErr != nil || json.Unmarshal(body, &p) != nil {
		writeJSON(w, http.StatusOK, apiErr("invalid_payload"))
		return
	}
	var blocks json.RawMessage
	if len(p.Blocks) > 0 && string(p.Blocks) != "null" {
		var list []json.RawMessage
		if json.Unmarshal(p.Blocks, &list) != nil {
			writeJSON(w, http.StatusOK, apiErr("invalid_blocks_format"))
			return
		}
		if errs := ValidateBlocks(p.Blocks); len(errs) > 0 {
			writeJSON(w, http.StatusOK, invalidBlocks(errs))
			return
		}
		if s.blocksTooLong(p.Blocks) {
			writeJSON(w, http.StatusOK, apiErr("msg_blocks_too_long"))
			return
		}
		if len(list) > 0 {
			blocks = slices.Clone(p.Blocks)
		}
	}
	if p.Text == "" && blocks == nil && !p.DeleteOriginal {
		writeJSON(w, http.StatusOK, apiErr("no_text"))
		return
	}
	ru.posts = append(ru.posts, Response{
		Text:            p.Text,
		Blocks:          blocks,
		ResponseType:    p.ResponseType,
		ReplaceOriginal: p.ReplaceOriginal,
		DeleteOriginal:  p.DeleteOriginal,
		ThreadTS:        p.ThreadTS,
		At:              now,
	})
	writeJSON(w, http.StatusOK, success(nil))
}
