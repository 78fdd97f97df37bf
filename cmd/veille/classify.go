package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/match"
)

// maxClassifyLine bounds one input line of `veille classify`.
const maxClassifyLine = 1 << 20

func init() {
	register(&command{
		name:    "classify",
		summary: "tag JSONL texts on stdin with narratives, stance and evidence (--stage: run the classify worker)",
		run: func(ctx context.Context, args []string) error {
			if len(args) > 0 && (args[0] == "--stage" || args[0] == "-stage") {
				return runStages(ctx, "classify", args[1:], stageSet{classify: true})
			}
			return runClassify(ctx, args)
		},
	})
}

type classifyIn struct {
	ID   json.RawMessage `json:"id"`
	Text *string         `json:"text"`
	Lang string          `json:"lang"`
}

func runClassify(ctx context.Context, args []string) error {
	fs := newFlags("classify")
	catDir := fs.String("catalog", "", "catalog directory layered over the embedded catalog")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel classifiers (output keeps input order)")
	model := fs.String("model", "", "model file from veille train (default: the built-in model; \"rules\": rules alone)")
	threshold := fs.Float64("threshold", 0, "probability a flag needs (0: the model's own)")
	ents := fs.Bool("entities", false, "name places, people and organisations in flagged English texts (slow)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opts []match.Option
	if *ents {
		opts = append(opts, match.WithEntities())
	}
	m, err := newClassifier(*catDir, *model, *threshold, opts...)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer out.Flush()
	return classifyStream(ctx, m, os.Stdin, out, max(*workers, 1))
}

type classifyJob struct {
	lineNo int
	line   []byte
	err    string
	done   chan []byte
}

// classifyStream reads JSONL from r and writes one result line per input
// line, in order, using n workers. Memory stays bounded by the queue.
func classifyStream(ctx context.Context, c classifiers.Classifier, r io.Reader, w io.Writer, n int) error {
	jobs := make(chan *classifyJob, n*4)
	order := make(chan *classifyJob, n*8)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.done <- classifyLine(ctx, c, j)
			}
		}()
	}
	writeErr := make(chan error, 1)
	go func() {
		var werr error
		for j := range order {
			b := <-j.done
			if werr == nil {
				_, werr = w.Write(b)
			}
		}
		writeErr <- werr
	}()

	br := bufio.NewReaderSize(r, 64<<10)
	var readErr error
	for lineNo := 1; ; lineNo++ {
		if ctx.Err() != nil {
			readErr = ctx.Err()
			break
		}
		line, tooLong, err := readLine(br, maxClassifyLine)
		if err == io.EOF && len(line) == 0 && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			readErr = fmt.Errorf("read stdin: %w", err)
			break
		}
		j := &classifyJob{lineNo: lineNo, line: line, done: make(chan []byte, 1)}
		switch {
		case tooLong:
			j.err = fmt.Sprintf("line %d: over %d bytes", lineNo, maxClassifyLine)
		case len(bytes.TrimSpace(line)) == 0:
			j.err = fmt.Sprintf("line %d: empty line", lineNo)
		}
		order <- j
		jobs <- j
		if err == io.EOF {
			break
		}
	}
	close(jobs)
	close(order)
	wg.Wait()
	if err := <-writeErr; err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return readErr
}

// readLine returns the next line without its newline. A line longer than
// limit is skipped to its end and reported as tooLong.
func readLine(br *bufio.Reader, limit int) ([]byte, bool, error) {
	var buf []byte
	tooLong := false
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > limit+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = bytes.TrimRight(buf, "\r\n")
		return buf, tooLong, err
	}
}

func classifyLine(ctx context.Context, c classifiers.Classifier, j *classifyJob) []byte {
	fail := func(id json.RawMessage, msg string) []byte {
		if len(id) == 0 {
			id = json.RawMessage("null")
		}
		b, _ := json.Marshal(struct {
			ID    json.RawMessage `json:"id"`
			Error string          `json:"error"`
		}{id, msg})
		return append(b, '\n')
	}
	if j.err != "" {
		return fail(nil, j.err)
	}
	if !utf8.Valid(j.line) {
		return fail(nil, fmt.Sprintf("line %d: invalid UTF-8", j.lineNo))
	}
	var in classifyIn
	if err := json.Unmarshal(j.line, &in); err != nil {
		return fail(nil, fmt.Sprintf("line %d: not a JSON object: %v", j.lineNo, err))
	}
	if in.Text == nil || strings.TrimSpace(*in.Text) == "" {
		return fail(in.ID, fmt.Sprintf("line %d: no text", j.lineNo))
	}
	res, err := c.Classify(ctx, classifiers.Doc{ID: deref(in.ID), Text: *in.Text, Lang: in.Lang})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail(in.ID, fmt.Sprintf("line %d: cancelled", j.lineNo))
		}
		return fail(in.ID, fmt.Sprintf("line %d: %v", j.lineNo, err))
	}
	if res.Flags == nil {
		res.Flags = []classifiers.Flag{}
	}
	b, err := json.Marshal(struct {
		ID    json.RawMessage    `json:"id"`
		Lang  string             `json:"lang"`
		Flags []classifiers.Flag `json:"flags"`
	}{orNull(in.ID), res.Lang, res.Flags})
	if err != nil {
		return fail(in.ID, fmt.Sprintf("line %d: encode: %v", j.lineNo, err))
	}
	return append(b, '\n')
}

// deref returns the id as a string: a JSON string unquoted, anything else
// verbatim.
func deref(id json.RawMessage) string {
	var s string
	if json.Unmarshal(id, &s) == nil {
		return s
	}
	return string(id)
}

func orNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}
