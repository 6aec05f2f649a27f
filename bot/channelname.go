package bot

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Slack's channel name rules: lowercase letters, digits, '-' and '_', at most
// 80 characters.
const maxChannelName = 80

// suffixRoom is kept free at the end of a name for the "-NN" that is added
// when Slack answers name_taken.
const suffixRoom = 3

// channelName returns "<prefix>-<number>-<slug of title>". The slug keeps the
// Latin letters and digits of the title (accents folded); a title in another
// script or made only of emoji gives just "<prefix>-<number>", which is still
// a valid and unique name.
func channelName(prefix string, number int64, title string) string {
	base := fmt.Sprintf("%s-%d", prefix, number)
	slug := slugify(title, maxChannelName-suffixRoom-len(base)-1)
	if slug == "" {
		return base
	}
	return base + "-" + slug
}

// withSuffix returns the n-th alternative to a taken name: name-2, name-3, ...
func withSuffix(name string, n int) string {
	s := fmt.Sprintf("-%d", n)
	if len(name)+len(s) > maxChannelName {
		name = strings.TrimRight(name[:maxChannelName-len(s)], "-_")
	}
	return name + s
}

// folds are letters that Unicode decomposition does not reduce to ASCII.
var folds = map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i"}

// slugify lowercases s, folds accents, and joins runs of anything else into
// single hyphens, keeping at most max bytes. A slug that must be cut is cut
// after a whole word when it has one, so that a long title does not end
// its channel's name in half a word.
func slugify(s string, max int) string {
	slug := slugAll(s, max+1)
	if len(slug) <= max {
		return slug
	}
	// slugAll stops at the first piece that would not fit in max+1, so a
	// hyphen at max means the words before it fit whole.
	if i := strings.LastIndexByte(slug[:max+1], '-'); i > 0 {
		return slug[:i]
	}
	return slug[:max] // one word longer than the room: it is cut
}

// slugAll is slugify without the care for words: it stops before the
// first letter that would take the slug past max bytes.
func slugAll(s string, max int) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		var keep string
		switch {
		case r < unicode.MaxASCII && (unicode.IsLower(r) || unicode.IsDigit(r)):
			keep = string(r)
		case folds[r] != "":
			keep = folds[r]
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent left by decomposition
		default:
			hyphen = b.Len() > 0
			continue
		}
		if hyphen {
			keep = "-" + keep
			hyphen = false
		}
		if b.Len()+len(keep) > max {
			break
		}
		b.WriteString(keep)
	}
	return b.String()
}
