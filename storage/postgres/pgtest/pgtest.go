// Package pgtest gives tests a PostgreSQL database of their own: a schema
// made for the test on the server SITREP_TEST_POSTGRES names, dropped when
// the test ends.
//
// Without a reachable server a test is skipped, saying why, except in CI
// (the CI environment variable set), where the PostgreSQL tests are
// required and a missing server fails them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the project's machines run.
const DefaultURL = "postgres://root@127.0.0.1:5432/test?sslmode=disable"

// ServerURL is the server tests use: SITREP_TEST_POSTGRES, or DefaultURL.
func ServerURL() string {
	if u := os.Getenv("SITREP_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	reachOnce sync.Once
	reachErr  error
)

// Require skips the test when no PostgreSQL server is reachable, or fails
// it in CI.
func Require(t testing.TB) {
	t.Helper()
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			reachErr = err
			return
		}
		reachErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	if reachErr == nil {
		return
	}
	msg := fmt.Sprintf("no PostgreSQL server answers at %s (%v); start one, or set SITREP_TEST_POSTGRES to a server's URL", redacted(ServerURL()), reachErr)
	if os.Getenv("CI") != "" {
		t.Fatalf("CI requires the PostgreSQL tests: %s", msg)
	}
	t.Skip(msg)
}

// Schema creates a schema named for nothing else on the server, drops it
// (with all it holds) when the test ends, and returns a URL whose
// connections use it. Stores opened on the URL must be closed before the
// test ends, which t.Cleanup's order does for stores opened after Schema.
func Schema(t testing.TB) string {
	t.Helper()
	Require(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "sitrep_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("connect to PostgreSQL to drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return WithSchema(t, ServerURL(), name)
}

// WithSchema returns u with its connections' search_path set to schema.
func WithSchema(t testing.TB, u, schema string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	q := parsed.Query()
	q.Set("search_path", schema)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// redacted is u with any password masked, for messages.
func redacted(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "SITREP_TEST_POSTGRES (not a URL)"
	}
	return parsed.Redacted()
}
