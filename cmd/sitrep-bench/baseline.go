package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// baselineMain serves the minimal server on the address in args and
// returns the exit code. It is what the benchmark compares Sitrep with:
// net/http doing only Slack's signature check (as bot/verify.go does it:
// a capped body, a timestamp within five minutes, HMAC-SHA256 of
// "v0:<ts>:<body>") and answering an empty 200; and, for alerts, reading
// the body within the same 1 MiB as intake does and checking the bearer
// token in constant time, answering an empty 200.
func baselineMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: sitrep-bench -baseline-server <addr>")
		return 2
	}
	secret := []byte(os.Getenv("SLACK_SIGNING_SECRET"))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
		if err != nil || len(body) > 1<<20 {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		ts := r.Header.Get("X-Slack-Request-Timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if skew := time.Since(time.Unix(sec, 0)); skew > 5*time.Minute || skew < -5*time.Minute {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		mac := hmac.New(sha256.New, secret)
		fmt.Fprintf(mac, "v0:%s:", ts)
		mac.Write(body)
		want := "v0=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("X-Slack-Signature")), []byte(want)) {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	hook := []byte("Bearer " + os.Getenv("SITREP_HOOK_SECRET_ALERTMANAGER"))
	mux.HandleFunc("POST /hooks/alertmanager", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil || len(body) == 0 {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), hook) != 1 {
			http.Error(w, "missing or wrong credential", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready\n") })
	// The same server timeouts as Sitrep's.
	srv := &http.Server{
		Addr:              args[0],
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "minimal server: %v\n", err)
		return 1
	}
	return 0
}
