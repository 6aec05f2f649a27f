package slackfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode settings.
const (
	// DefaultSocketPingInterval is how often the fake pings Socket Mode
	// clients unless WithSocketPingInterval is given.
	DefaultSocketPingInterval = 10 * time.Second

	appsConnectionsOpen = "apps.connections.open"
	socketPath          = "/socket/"
	socketWriteWait     = 10 * time.Second
	socketHost          = "applink-fake"
)

// ErrServerClosed is returned by SocketSend and WaitSocket once Close was
// called.
var ErrServerClosed = errors.New("slackfake: server closed")

// socketConn is one Socket Mode WebSocket connection. Its writer goroutine
// is the only one writing data messages to ws; the handler goroutine reads.
type socketConn struct {
	ws       *websocket.Conn
	out      chan []byte   // messages to write, in order
	done     chan struct{} // closed when the connection is gone
	retiring bool          // a disconnect message was sent: no more envelopes
}

// shutdown sends a close frame and closes the connection; the reader then
// fails and cleans up. It is safe to call from any goroutine.
func (c *socketConn) shutdown() {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closed")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// appTokenAuth authenticates apps.connections.open, which takes only an
// app-level token, and only in the Authorization header. It returns nil when
// the call may proceed.
func (s *Server) appTokenAuth(r *request) result {
	switch {
	case r.token == s.appToken && r.tokenInHeader:
		return nil
	case r.token == s.botToken:
		return apiErr("not_allowed_token_type")
	default:
		// Including a valid app token sent as a form field: Slack answers
		// invalid_auth (python-slack-sdk#1877).
		return apiErr("invalid_auth")
	}
}

// appsConnectionsOpen issues a single-use WebSocket URL.
func (s *Server) appsConnectionsOpen(r *request) result {
	ticket := randomHex(16)
	s.socketTickets[ticket] = true
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + socketPath + ticket
	return success(result{"url": u})
}

var upgrader = websocket.Upgrader{
	// slack-go dials with "Origin: https://api.slack.com", which
	// gorilla's default origin check rejects for a 127.0.0.1 host.
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleSocket serves the URLs of apps.connections.open. The query string
// (slack-go adds debug_reconnects=true in debug mode) is ignored.
func (s *Server) handleSocket(w http.ResponseWriter, hr *http.Request) {
	ticket := strings.TrimPrefix(hr.URL.Path, socketPath)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	if !s.socketTickets[ticket] {
		s.mu.Unlock()
		http.NotFound(w, hr)
		return
	}
	delete(s.socketTickets, ticket)
	s.socketWG.Add(1)
	s.mu.Unlock()
	defer s.socketWG.Done()

	ws, err := upgrader.Upgrade(w, hr, nil)
	if err != nil {
		return // Upgrade answered the error
	}
	c := &socketConn{ws: ws, out: make(chan []byte, 64), done: make(chan struct{})}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.shutdown()
		return
	}
	s.sockets = append(s.sockets, c)
	c.out <- s.helloLocked()
	s.notifySocketLocked()
	s.socketWG.Add(1)
	s.mu.Unlock()

	go s.writeSocket(c)
	s.readSocket(c)

	s.mu.Lock()
	for i, sc := range s.sockets {
		if sc == c {
			s.sockets = append(s.sockets[:i], s.sockets[i+1:]...)
			break
		}
	}
	close(c.done)
	s.notifySocketLocked()
	s.mu.Unlock()
	_ = ws.Close()
}

// helloLocked renders the hello message, shaped like socket-mode-envelopes.json.
func (s *Server) helloLocked() []byte {
	b, _ := json.Marshal(result{
		"type":            "hello",
		"num_connections": len(s.sockets),
		"debug_info": result{
			"host":                        socketHost,
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": result{"app_id": DefaultAppID},
	})
	return b
}

// writeSocket writes queued messages and pings until the connection ends.
func (s *Server) writeSocket(c *socketConn) {
	defer s.socketWG.Done()
	ping := func() error {
		return c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(socketWriteWait))
	}
	tick := time.NewTicker(s.socketPing)
	defer tick.Stop()
	// A first ping right away arms slack-go's ping watchdog.
	if ping() != nil {
		_ = c.ws.Close()
		return
	}
	for {
		select {
		case msg := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(socketWriteWait))
			if c.ws.WriteMessage(websocket.TextMessage, msg) != nil {
				_ = c.ws.Close()
				return
			}
		case <-tick.C:
			if ping() != nil {
				_ = c.ws.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// readSocket reads the client's messages (acks) until the connection fails.
func (s *Server) readSocket(c *socketConn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		if ch, ok := s.pendingAcks[ack.EnvelopeID]; ok {
			delete(s.pendingAcks, ack.EnvelopeID)
			ch <- nullToNil(ack.Payload) // buffered
		}
		s.mu.Unlock()
	}
}

// notifySocketLocked wakes up whoever waits for a change of connections.
func (s *Server) notifySocketLocked() {
	close(s.socketChanged)
	s.socketChanged = make(chan struct{})
}

// activeSocketLocked returns the newest connection that was not asked to
// disconnect, or nil.
func (s *Server) activeSocketLocked() *socketConn {
	for i := len(s.sockets) - 1; i >= 0; i-- {
		if !s.sockets[i].retiring {
			return s.sockets[i]
		}
	}
	return nil
}

// SocketConnected reports whether a Socket Mode client is connected (and was
// not sent a disconnect message since).
func (s *Server) SocketConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activeSocketLocked() != nil
}

// WaitSocket waits until SocketConnected is true. The hello message is
// queued before the connection counts as connected, so envelopes sent after
// WaitSocket returns reach the client after hello. It returns ctx's error
// (wrapped) or ErrServerClosed.
func (s *Server) WaitSocket(ctx context.Context) error {
	_, err := s.waitSocket(ctx)
	return err
}

func (s *Server) waitSocket(ctx context.Context) (*socketConn, error) {
	for {
		s.mu.Lock()
		c, changed, closed := s.activeSocketLocked(), s.socketChanged, s.closed
		s.mu.Unlock()
		switch {
		case closed:
			return nil, ErrServerClosed
		case c != nil:
			return c, nil
		}
		select {
		case <-changed:
		case <-s.closing:
		case <-ctx.Done():
			return nil, fmt.Errorf("slackfake: no Socket Mode client connected: %w", ctx.Err())
		}
	}
}

// SocketSend delivers a Socket Mode envelope,
//
//	{"envelope_id": <uuid>, "type": envelopeType, "payload": payload,
//	 "accepts_response_payload": acceptsResponsePayload}
//
// (plus "retry_attempt": 0 and "retry_reason": "" for events_api, as Slack
// sends), to the newest connected client, waiting for one to connect if
// needed. envelopeType is "events_api", "slash_commands" or "interactive";
// payload is what Slack would POST over HTTP (for events_api the whole
// event_callback). It then waits for the client's ack,
// {"envelope_id": ..., "payload": ...}, which may come over any connection,
// and returns the ack's payload (nil when the ack has none).
//
// It fails when ctx ends first (the error wraps ctx.Err(), so
// errors.Is(err, context.DeadlineExceeded) holds for a missed deadline), when
// the server is closed (ErrServerClosed), or when payload is not JSON. Slack
// expects acks within 3 seconds: use a context with that timeout to check
// the bot's, after WaitSocket so that the timeout does not include the
// connection. An envelope whose connection drops before the ack is not
// redelivered.
func (s *Server) SocketSend(ctx context.Context, envelopeType string, payload json.RawMessage, acceptsResponsePayload bool) (ack json.RawMessage, err error) {
	if !json.Valid(payload) {
		return nil, fmt.Errorf("slackfake: SocketSend: payload is not JSON")
	}
	id := newUUID()
	env := result{
		"envelope_id":              id,
		"type":                     envelopeType,
		"payload":                  payload,
		"accepts_response_payload": acceptsResponsePayload,
	}
	if envelopeType == "events_api" {
		env["retry_attempt"] = 0
		env["retry_reason"] = ""
	}
	msg, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("slackfake: SocketSend: %w", err)
	}
	acked := make(chan json.RawMessage, 1)
	s.mu.Lock()
	s.pendingAcks[id] = acked
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pendingAcks, id)
		s.mu.Unlock()
	}()

	for sent := false; !sent; {
		c, err := s.waitSocket(ctx)
		if err != nil {
			return nil, err
		}
		select {
		case c.out <- msg:
			sent = true
		case <-c.done: // gone before the envelope was queued: try the next one
		case <-s.closing:
			return nil, ErrServerClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("slackfake: %s envelope %s not delivered: %w", envelopeType, id, ctx.Err())
		}
	}
	select {
	case ack := <-acked:
		return ack, nil
	case <-s.closing:
		return nil, ErrServerClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("slackfake: no ack for %s envelope %s: %w", envelopeType, id, ctx.Err())
	}
}

// SocketDisconnect sends a disconnect message,
//
//	{"type": "disconnect", "reason": reason, "debug_info": {"host": ...}}
//
// to every connected client, as Slack does before recycling a connection
// (reasons: "warning", "refresh_requested", "link_disabled",
// "too_many_websockets"). The connections stay open until the client closes
// them, but no longer count for SocketConnected, WaitSocket and SocketSend:
// a client that reconnects (slack-go's socketmode does, on any reason)
// gets the next envelopes.
func (s *Server) SocketDisconnect(reason string) {
	msg, _ := json.Marshal(result{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": result{"host": socketHost},
	})
	s.mu.Lock()
	var conns []*socketConn
	for _, c := range s.sockets {
		if !c.retiring {
			c.retiring = true
			conns = append(conns, c)
		}
	}
	s.notifySocketLocked()
	s.mu.Unlock()
	for _, c := range conns {
		select {
		case c.out <- msg:
		case <-c.done:
		case <-s.closing:
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random (version 4) UUID, as Slack's envelope IDs are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
