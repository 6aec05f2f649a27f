// Package sitrep holds the Slack app manifest (Manifest, BotScopes) and
// repository-level checks such as the manifest test.
package sitrep
