package slackfake

import (
	"encoding/json"
	"unicode/utf8"
)

// DefaultBlocksTextLimit is the total text a message's blocks may carry
// unless WithBlocksTextLimit says otherwise.
//
// Slack does not document this limit. Slack's own SDK maintainers report
// (slackapi/bolt-js issues 2509 and 2867) that a message whose blocks are
// each within Block Kit's limits is still refused with msg_blocks_too_long
// once their text adds up to about 12,000 characters, and Slack does not
// say how it counts. The fake counts conservatively (see BlocksText), so
// that what passes here should pass in Slack; a sender that keeps well
// under this limit is safe.
const DefaultBlocksTextLimit = 12000

// WithBlocksTextLimit sets the most text a message's blocks may carry in
// total, counted by BlocksText, before chat.postMessage, chat.update,
// chat.postEphemeral and response_url posts answer msg_blocks_too_long
// (default DefaultBlocksTextLimit). Zero or less turns the check off.
func WithBlocksTextLimit(n int) Option { return func(s *Server) { s.blocksTextLimit = n } }

// BlocksText returns how much text a "blocks" array carries, as the fake
// counts it against the limit of WithBlocksTextLimit: the characters
// (runes) of every string under a "text" key at any depth, which covers
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

// blocksTooLong reports whether blocks carry more text than the server's
// limit allows.
func (s *Server) blocksTooLong(blocks json.RawMessage) bool {
	return s.blocksTextLimit > 0 && len(blocks) > 0 && BlocksText(blocks) > s.blocksTextLimit
}
