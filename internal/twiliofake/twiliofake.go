// Package twiliofake is a fake Twilio REST API for tests: Messages.json
// and Calls.json under /2010-04-01/Accounts/{sid}/, form-encoded requests,
// HTTP Basic auth (401 with code 20003), 400 with code 21211 for a To that
// is not E.164, 201 with the recorded shapes, and 429 (20429) or 5xx when
// a test asks.
package twiliofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sync"
)

// Request is a message or call the fake accepted.
type Request struct {
	Kind string // "sms" or "call"
	Form url.Values
}

// Server is the fake.
type Server struct {
	sid, token string
	srv        *httptest.Server

	mu   sync.Mutex
	got  []Request
	fail []int
	n    int
}

// New starts a fake for the account sid with its auth token.
func New(sid, token string) *Server {
	s := &Server{sid: sid, token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", func(w http.ResponseWriter, r *http.Request) { s.create(w, r, "sms") })
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Calls.json", func(w http.ResponseWriter, r *http.Request) { s.create(w, r, "call") })
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the API URL to set as TWILIO_API_URL.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next requests answer these statuses, one each.
func (s *Server) Fail(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Requests returns what was accepted, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func apiError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		if code == http.StatusTooManyRequests {
			apiError(w, code, 20429, "Too Many Requests")
		} else {
			w.WriteHeader(code)
		}
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.sid || pass != s.token || r.PathValue("sid") != s.sid {
		apiError(w, http.StatusUnauthorized, 20003, "Authentication Error - invalid username")
		return
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		apiError(w, http.StatusBadRequest, 20001, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, 20001, "Unparseable form")
		return
	}
	f := r.PostForm
	if !e164.MatchString(f.Get("To")) {
		apiError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+f.Get("To"))
		return
	}
	switch {
	case kind == "sms" && (f.Get("Body") == "" || len([]rune(f.Get("Body"))) > 1600):
		apiError(w, http.StatusBadRequest, 21602, "Message body is required")
		return
	case kind == "call" && f.Get("Twiml") == "" && f.Get("Url") == "":
		apiError(w, http.StatusBadRequest, 21205, "Url parameter is required")
		return
	case kind == "call" && len(f.Get("Twiml")) > 4000:
		apiError(w, http.StatusBadRequest, 21220, "Twiml too long")
		return
	}
	s.got = append(s.got, Request{Kind: kind, Form: f})
	s.n++
	prefix := "SM"
	if kind == "call" {
		prefix = "CA"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("%s%032d", prefix, s.n), "account_sid": s.sid, "to": f.Get("To"), "from": f.Get("From"),
		"status": "queued", "date_sent": nil, "price": nil, "error_code": nil, "num_segments": "1"})
}
