package telegram

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// walk visits root and its descendants in document order; visit returns
// whether to go into a node's children. It keeps no stack, so no depth of
// nesting costs more than the nodes themselves.
func walk(root *html.Node, visit func(*html.Node) bool) {
	n := root
	for {
		if visit(n) && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != root && n.NextSibling == nil {
			n = n.Parent
		}
		if n == root {
			return
		}
		n = n.NextSibling
	}
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func hasClass(n *html.Node, class string) bool {
	for c := range strings.FieldsSeq(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// blocks end a line of text where they open and close.
var blocks = map[atom.Atom]bool{
	atom.Div: true, atom.P: true, atom.Blockquote: true, atom.Pre: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Table: true, atom.Tr: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Hr: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
}

// unseen are elements whose content a reader of the post does not see as text.
var unseen = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Template: true, atom.Noscript: true,
	atom.Iframe: true, atom.Object: true, atom.Video: true, atom.Audio: true,
	atom.Canvas: true, atom.Select: true, atom.Textarea: true, atom.Head: true,
}

// textWriter renders an element as plain text and gathers its links.
type textWriter struct {
	b     strings.Builder
	links []string
}

// children renders n's content; inside <pre> line breaks are kept as they are.
func (w *textWriter) children(n *html.Node, pre bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if pre {
				w.b.WriteString(c.Data)
				continue
			}
			// outside <pre> a source line break is a space, as a browser shows it
			for i := 0; i < len(c.Data); i++ {
				switch ch := c.Data[i]; ch {
				case '\n', '\r', '\t', '\f':
					w.b.WriteByte(' ')
				default:
					w.b.WriteByte(ch)
				}
			}
		case html.ElementNode:
			w.element(c, pre)
		}
	}
}

func (w *textWriter) element(n *html.Node, pre bool) {
	if n.Namespace != "" || unseen[n.DataAtom] { // svg and math icons included
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.b.WriteByte('\n')
		return
	case atom.Img:
		w.b.WriteString(attr(n, "alt")) // custom emoji carry their character there
		return
	case atom.A:
		w.addLink(attr(n, "href"))
	}
	block := blocks[n.DataAtom]
	if block {
		w.endLine()
	}
	w.children(n, pre || n.DataAtom == atom.Pre)
	if block {
		w.endLine()
	}
}

// endLine ends the current line unless it is already ended.
func (w *textWriter) endLine() {
	if s := w.b.String(); s != "" && s[len(s)-1] != '\n' {
		w.b.WriteByte('\n')
	}
}

// addLink keeps href if it is an absolute http(s) link not seen yet.
func (w *textWriter) addLink(href string) {
	href = strings.TrimSpace(href)
	if href == "" || !utf8.ValidString(href) || slices.Contains(w.links, href) {
		return
	}
	u, err := url.Parse(href)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return
	}
	w.links = append(w.links, href)
}

// tidy collapses spaces within lines, drops invisible characters and empty
// lines at either end, and keeps at most one blank line in a row. The result
// is valid UTF-8.
func tidy(s string) string {
	var out strings.Builder
	out.Grow(len(s))
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = collapse(line)
		if line == "" {
			blank = out.Len() > 0
			continue
		}
		if out.Len() > 0 {
			out.WriteByte('\n')
			if blank {
				out.WriteByte('\n')
			}
		}
		blank = false
		out.WriteString(line)
	}
	return out.String()
}

// collapse turns each run of white space (no-break spaces too) into one
// space, trims both ends, and drops control characters, zero-width spaces
// and byte-order marks. Invalid UTF-8 becomes U+FFFD.
func collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case r == '\u200b' || r == '\ufeff' || unicode.IsControl(r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine is n's text on a single line.
func oneLine(n *html.Node) string {
	var w textWriter
	w.children(n, false)
	return collapse(w.b.String())
}
