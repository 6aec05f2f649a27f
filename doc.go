// Package sitrep holds repository-level checks such as the Slack app manifest test.
package sitrep
