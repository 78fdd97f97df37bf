package parse

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLTokens bounds the work HTMLToText does on one document.
const maxHTMLTokens = 2_000_000

// skipContent are elements whose text is never shown to a reader.
var skipContent = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Svg: true,
	atom.Math: true, atom.Head: true, atom.Title: true, atom.Select: true,
	atom.Textarea: true, atom.Noembed: true, atom.Noframes: true,
}

// blockElements end a line of text.
var blockElements = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Br: true, atom.Dd: true, atom.Details: true, atom.Dialog: true, atom.Div: true,
	atom.Dl: true, atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true,
	atom.Figure: true, atom.Footer: true, atom.Form: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true,
	atom.Hr: true, atom.Li: true, atom.Main: true, atom.Nav: true, atom.Ol: true,
	atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true,
	atom.Table: true, atom.Tbody: true, atom.Td: true, atom.Tfoot: true, atom.Th: true,
	atom.Thead: true, atom.Tr: true, atom.Ul: true, atom.Caption: true, atom.Body: true,
	atom.Html: true,
}

// HTMLToText turns an HTML fragment (or plain text) into the plain text the
// classifiers read: script/style and similar contents dropped, entities
// decoded, block elements and <br> turned into line breaks, runs of spaces
// collapsed, blank lines removed. The result is valid UTF-8.
func HTMLToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapseText(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	z.SetMaxBuf(0)
	var b strings.Builder
	b.Grow(len(s))
	skip := 0 // depth inside skipContent elements
	var skipping atom.Atom
	for range maxHTMLTokens {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapseText(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skip > 0 {
				if a == skipping && tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if skipContent[a] && tt == html.StartTagToken {
				skip, skipping = 1, a
				continue
			}
			if blockElements[a] {
				b.WriteByte('\n')
			} else if a == atom.Img {
				// alt text stands in for an image, as a reader would see it
				for {
					k, v, more := z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						b.WriteByte(' ')
						b.Write(v)
						b.WriteByte(' ')
					}
					if !more {
						break
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skip > 0 {
				if a == skipping {
					skip--
				}
				continue
			}
			if blockElements[a] {
				b.WriteByte('\n')
			}
		}
	}
	return collapseText(b.String())
}

// collapseText collapses horizontal whitespace to one space, trims each
// line, drops empty lines and replaces invalid UTF-8 and control characters.
func collapseText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	space, line := false, false // pending space; current line has text
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\f' || r == '\v':
			if line {
				b.WriteByte('\n')
			}
			space, line = false, false
		case unicode.IsSpace(r) || r == '\u00a0' || r == '\u200b' || r == '\ufeff':
			space = line
		case unicode.IsControl(r):
			// C0/C1 controls carry nothing readable; U+0080–U+009F in the
			// wild are mostly cp1252 punctuation mis-decoded.
			if rr, ok := c1ToCP1252[r]; ok {
				if space {
					b.WriteByte(' ')
				}
				b.WriteRune(rr)
				space, line = false, true
			}
		default:
			if space {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space, line = false, true
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// c1ToCP1252 maps C1 controls to the windows-1252 characters they were
// meant to be ("demoronising").
var c1ToCP1252 = map[rune]rune{
	0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡',
	0x88: 'ˆ', 0x89: '‰', 0x8A: 'Š', 0x8B: '‹', 0x8C: 'Œ', 0x8E: 'Ž', 0x91: '\u2018',
	0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d', 0x95: '•', 0x96: '–', 0x97: '—',
	0x98: '˜', 0x99: '™', 0x9A: 'š', 0x9B: '›', 0x9C: 'œ', 0x9E: 'ž', 0x9F: 'Ÿ',
}

var (
	policyOnce sync.Once
	policy     *bluemonday.Policy
)

func sanitizer() *bluemonday.Policy {
	policyOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AllowURLSchemes("http", "https", "mailto")
		p.RequireParseableURLs(true)
		p.RequireNoFollowOnLinks(true)
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true) // adds rel=noopener
		policy = p
	})
	return policy
}

// SanitizeHTML keeps only an allow-list of markup (bluemonday's UGC policy:
// no script, style, iframe, event handlers or javascript: URLs; links get
// rel="nofollow noreferrer noopener").
func SanitizeHTML(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.TrimSpace(sanitizer().Sanitize(s))
}
