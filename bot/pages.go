package bot

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// pageText is the most Sitrep puts in the blocks of one message, counted
// by blocksSize. Slack refuses a message whose blocks carry about 12,000
// characters in all (msg_blocks_too_long), though each block is within
// Block Kit's own limits. Slack documents neither the number nor how it
// counts (see slackfake.DefaultBlocksTextLimit; one report has text of
// 11,341 characters refused), so messages that grow with the incident (the
// checklist, the follow-ups, the timeline and list replies) keep to two
// thirds of it, counting each block's container as well as its text.
const pageText = 8000

// blockOverhead is what blocksSize counts for a block beyond its text:
// Slack was measured counting about 100 characters per block on top.
const blockOverhead = 100

// blocksSize is what blocks cost against pageText: their text and
// blockOverhead for each.
func blocksSize(blocks ...slack.Block) int {
	return blocksText(blocks...) + blockOverhead*len(blocks)
}

// blocksText counts the text of blocks: the characters of every string
// under a "text" key, at any depth (every text object, button labels
// included).
func blocksText(blocks ...slack.Block) int {
	raw, err := json.Marshal(blocks)
	if err != nil {
		return 0
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	var count func(v any, underText bool) int
	count = func(v any, underText bool) int {
		n := 0
		switch x := v.(type) {
		case string:
			if underText {
				n = utf8.RuneCountInString(x)
			}
		case []any:
			for _, e := range x {
				n += count(e, false)
			}
		case map[string]any:
			for k, e := range x {
				n += count(e, k == "text")
			}
		}
		return n
	}
	return count(v, false)
}

// paginate lays items (each the blocks of one entry) out on as few
// messages as keep every message within pageText (by blocksSize) and Block
// Kit's 50 blocks. Every page starts with head(part, parts) and the last
// ends with foot. Entries keep their order and are never split; one entry
// is far smaller than a page (its section is at most 3,000 characters).
func paginate(items [][]slack.Block, head func(part, parts int) slack.Block, foot slack.Block) [][]slack.Block {
	// Heads are measured as the longest they can be ("part 99 of 99"), so
	// that numbering the pages afterwards cannot push one over.
	headText, footText := blocksSize(head(99, 99)), blocksSize(foot)
	var pages [][][]slack.Block
	var cur [][]slack.Block
	curText, curBlocks := headText+footText, 2
	for _, it := range items {
		n := blocksSize(it...)
		if len(cur) > 0 && (curText+n > pageText || curBlocks+len(it) > maxBlocks) {
			pages = append(pages, cur)
			cur, curText, curBlocks = nil, headText+footText, 2
		}
		cur = append(cur, it)
		curText += n
		curBlocks += len(it)
	}
	pages = append(pages, cur)
	out := make([][]slack.Block, len(pages))
	for i, p := range pages {
		blocks := []slack.Block{head(i+1, len(pages))}
		for _, it := range p {
			blocks = append(blocks, it...)
		}
		if i == len(pages)-1 {
			blocks = append(blocks, foot)
		}
		out[i] = blocks
	}
	return out
}

// partOf names a page of a message that takes several, or "" when it
// takes one.
func partOf(part, parts int) string {
	if parts <= 1 {
		return ""
	}
	return fmt.Sprintf(" (part %d of %d)", part, parts)
}

// emptyPageBlocks replace a page that is no longer needed, once what it
// showed fits on the pages before it.
func emptyPageBlocks(what string) []slack.Block {
	return []slack.Block{slack.NewContextBlock("", mrkdwn(":arrow_up: This part of "+what+" is empty now: it all fits in the messages above."))}
}
