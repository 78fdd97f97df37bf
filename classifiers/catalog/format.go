package catalog

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Format rewrites a catalog file for people: every list of terms one term
// per line, and terms that do nothing (given twice, or already matched by a
// wildcard of the same list) dropped. Comments and everything else stay.
// The result is what `veille catalog fmt` writes.
func Format(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var walk func(n *yaml.Node, inTerms bool)
	walk = func(n *yaml.Node, inTerms bool) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, inTerms)
			}
		case yaml.MappingNode:
			if inTerms {
				n.Style = 0 // a flow map of lists cannot hold block lists
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				walk(v, inTerms || k.Value == "concepts")
			}
		case yaml.SequenceNode:
			if !inTerms {
				return
			}
			n.Style = 0 // block: one term per line
			n.Content = usefulTerms(n.Content)
		}
	}
	walk(&doc, false)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("catalog: format: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("catalog: format: %w", err)
	}
	return b.Bytes(), nil
}

// usefulTerms drops the term nodes that repeat one before them or that a
// single-word wildcard of the list already matches.
func usefulTerms(nodes []*yaml.Node) []*yaml.Node {
	var wild []string
	for _, n := range nodes {
		k := strings.ToLower(strings.TrimSpace(n.Value))
		if !strings.Contains(k, " ") && strings.Contains(k, "*") && !strings.HasPrefix(k, "=") {
			wild = append(wild, k)
		}
	}
	seen := map[string]bool{}
	out := nodes[:0]
	for _, n := range nodes {
		k := strings.ToLower(strings.TrimSpace(n.Value))
		if seen[k] {
			continue
		}
		seen[k] = true
		covered := false
		if !strings.ContainsAny(k, "* =") {
			for _, w := range wild {
				if wildMatches(w, k) {
					covered = true
					break
				}
			}
		}
		if !covered {
			out = append(out, n)
		}
	}
	return out
}
