package slackfake

import (
	"encoding/json"
	"unicode/utf8"
)

// DefaultBlocksTextLimit is the most a message's blocks may carry, as
// BlocksSize counts it, unless WithBlocksTextLimit says otherwise.
//
// Slack does not document this limit, nor how it counts. Slack's own SDK
// maintainers and their users report (slackapi/bolt-js issues 2509 and
// 2867) that a message whose blocks are each within Block Kit's limits is
// still refused with msg_blocks_too_long: at about 13,200 characters with
// markdown blocks alone, less with more blocks (about 100 characters per
// header block on top of its text, by one app's measurements), and once
// with text that added up to only 11,341 characters. So the fake counts
// more than the text (BlocksSize: the text plus BlockOverhead per block)
// against less than Slack was seen to allow: what passes here should pass
// in Slack, and a sender that keeps well under this limit is safe.
const DefaultBlocksTextLimit = 12000

// BlockOverhead is what BlocksSize counts for each block on top of its
// text.
const BlockOverhead = 100

// WithBlocksTextLimit sets the most a message's blocks may carry, counted
// by BlocksSize, before chat.postMessage, chat.update, chat.postEphemeral
// and response_url posts answer msg_blocks_too_long (default
// DefaultBlocksTextLimit). Zero or less turns the check off.
func WithBlocksTextLimit(n int) Option { return func(s *Server) { s.blocksTextLimit = n } }

// BlocksSize is what the fake counts of a "blocks" array against the limit
// of WithBlocksTextLimit: BlocksText plus BlockOverhead for each top-level
// block. An array that is not JSON counts 0 (it is refused as
// invalid_blocks_format anyway).
func BlocksSize(blocks json.RawMessage) int {
	var list []json.RawMessage
	if err := json.Unmarshal(blocks, &list); err != nil {
		return 0
	}
	return BlocksText(blocks) + BlockOverhead*len(list)
}

// BlocksText returns how much text a "blocks" array carries: the
// characters (runes) of every string under a "text" key at any depth, which covers
// every text object (section text and fields, headers, context elements,
// button labels, option texts, placeholders) and the texts of rich_text
// elements. Values, IDs, URLs and the message's top-level text are not
// counted. An array that is not JSON counts 0 (it is refused as
// invalid_blocks_format anyway).
func BlocksText(blocks json.RawMessage) int {
	var v any
	if err := json.Unmarshal(blocks, &v); err != nil {
		return 0
	}
	return textIn(v, false)
}

// textIn counts the runes of strings found under a "text" key; underText
// says v itself is the value of one.
func textIn(v any, underText bool) int {
	switch x := v.(type) {
	case string:
		if underText {
			return utf8.RuneCountInString(x)
		}
	case []any:
		n := 0
		for _, e := range x {
			n += textIn(e, false)
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range x {
			n += textIn(e, k == "text")
		}
		return n
	}
	return 0
}

// blocksTooLong reports whether blocks carry more than the server's limit
// allows.
func (s *Server) blocksTooLong(blocks json.RawMessage) bool {
	return s.blocksTextLimit > 0 && len(blocks) > 0 && BlocksSize(blocks) > s.blocksTextLimit
}
