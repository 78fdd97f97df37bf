package learn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// ErrBadModel marks model bytes that cannot be used.
var ErrBadModel = errors.New("learn: bad model")

const magic = "VEILLE-MODEL-2\n"

// Calibration turns the model's raw score for a narrative, whether the
// rules flagged it and whether the text names the mission into the
// probability that the flag is right:
// p = σ(A·z + B·rule + D·mission + C), fitted on out-of-fold predictions.
// The mission term lets a text that never names the mission need more
// evidence, which a sum of word weights alone cannot express.
type Calibration struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
	C float64 `json:"c"`
	D float64 `json:"d"`
}

// P returns the calibrated probability.
func (c Calibration) P(z float64, rule, mission bool) float64 {
	x := c.A*z + c.C
	if rule {
		x += c.B
	}
	if mission {
		x += c.D
	}
	return 1 / (1 + math.Exp(-x))
}

// Header is what a model says of itself; it is stored as JSON at the head
// of the model file.
type Header struct {
	Narratives  []string    `json:"narratives"`
	Stances     []string    `json:"stances"`
	Bias        []float32   `json:"bias"`
	Scale       []float32   `json:"scale"` // per output: weight = int8 · scale
	Calibration Calibration `json:"calibration"`
	Threshold   float64     `json:"threshold"`
	Seed        uint64      `json:"seed"`
	Items       int         `json:"items"`
	Data        string      `json:"data"` // sha256 of the training items, as read
	Config      Config      `json:"config"`
}

// Model is a trained learned layer: one logistic output per narrative and a
// three-way stance output, over hashed features, with int8 weights.
type Model struct {
	Header
	version string
	k       int       // outputs: narratives then stances
	rows    []int32   // per hash bucket: row in w, or -1
	w       []float32 // dequantised weights, row-major, k per row
	q       []int8    // the same weights quantised, for the hot loop
	raw     []byte    // the encoded model
	scratch sync.Pool // *scratch, for score
}

// Version names the model by the digest of its bytes.
func (m *Model) Version() string { return m.version }

// Bytes returns the encoded model, as written by veille train.
func (m *Model) Bytes() []byte { return m.raw }

// row returns the weights of hash h, or nil.
func (m *Model) row(h uint32) []float32 {
	r := m.rows[h]
	if r < 0 {
		return nil
	}
	return m.w[int(r)*m.k : int(r+1)*m.k]
}

// encode quantises dense weights (2^dimBits rows × k) into model bytes,
// keeping the rows in keep. The output is deterministic: same weights, same
// bytes.
func encode(h Header, dense []float32, keep []uint32) ([]byte, error) {
	k := len(h.Narratives) + len(h.Stances)
	h.Scale = make([]float32, k)
	for _, r := range keep {
		for j := 0; j < k; j++ {
			if a := float32(math.Abs(float64(dense[int(r)*k+j]))); a > h.Scale[j] {
				h.Scale[j] = a
			}
		}
	}
	for j := range h.Scale {
		h.Scale[j] /= 127
		if h.Scale[j] == 0 {
			h.Scale[j] = 1
		}
	}
	q := make([]int8, 0, len(keep)*k)
	var rows []uint32
	for _, r := range keep {
		zero := true
		row := make([]int8, k)
		for j := 0; j < k; j++ {
			v := math.Round(float64(dense[int(r)*k+j] / h.Scale[j]))
			row[j] = int8(max(-127, min(127, v)))
			if row[j] != 0 {
				zero = false
			}
		}
		if !zero {
			rows = append(rows, r)
			q = append(q, row...)
		}
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("learn: encode header: %w", err)
	}
	var body bytes.Buffer
	body.WriteString(magic)
	var tmp [binary.MaxVarintLen64]byte
	put := func(x uint64) { body.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	put(uint64(len(hj)))
	body.Write(hj)
	put(uint64(len(rows)))
	prev := uint32(0)
	for _, r := range rows {
		put(uint64(r - prev))
		prev = r
	}
	for _, x := range q {
		body.WriteByte(byte(x))
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if _, err := zw.Write(body.Bytes()); err != nil {
		return nil, fmt.Errorf("learn: compress model: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("learn: compress model: %w", err)
	}
	return out.Bytes(), nil
}

// Decode reads model bytes written by veille train.
func Decode(b []byte) (*Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
	}
	body, err := io.ReadAll(io.LimitReader(zr, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
	}
	if !bytes.HasPrefix(body, []byte(magic)) {
		return nil, fmt.Errorf("%w: not a Veille model", ErrBadModel)
	}
	r := bufio.NewReader(bytes.NewReader(body[len(magic):]))
	get := func() uint64 {
		x, e := binary.ReadUvarint(r)
		if e != nil && err == nil {
			err = e
		}
		return x
	}
	hl := get()
	if err != nil || hl > 1<<20 {
		return nil, fmt.Errorf("%w: header", ErrBadModel)
	}
	hj := make([]byte, hl)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadModel, err)
	}
	m := &Model{raw: b}
	if err := json.Unmarshal(hj, &m.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadModel, err)
	}
	m.k = len(m.Narratives) + len(m.Stances)
	if g := m.Config.MaxGram; g < 3 || g > 5 {
		return nil, fmt.Errorf("%w: character n-grams up to %d", ErrBadModel, g)
	}
	if len(m.Narratives) == 0 || m.k > maxOutputs || len(m.Stances) != 3 || len(m.Bias) != m.k || len(m.Scale) != m.k {
		return nil, fmt.Errorf("%w: %d narratives, %d stances, %d biases", ErrBadModel, len(m.Narratives), len(m.Stances), len(m.Bias))
	}
	n := get()
	if err != nil || n > 1<<dimBits {
		return nil, fmt.Errorf("%w: row count", ErrBadModel)
	}
	m.rows = make([]int32, 1<<dimBits)
	for i := range m.rows {
		m.rows[i] = -1
	}
	h := uint64(0)
	for i := range int(n) {
		h += get()
		if err != nil || h >= 1<<dimBits {
			return nil, fmt.Errorf("%w: row %d", ErrBadModel, i)
		}
		m.rows[h] = int32(i)
	}
	m.w = make([]float32, int(n)*m.k)
	m.q = make([]int8, int(n)*m.k)
	for i := range m.w {
		c, e := r.ReadByte()
		if e != nil {
			return nil, fmt.Errorf("%w: weights: %v", ErrBadModel, e)
		}
		m.q[i] = int8(c)
		m.w[i] = float32(int8(c)) * m.Scale[i%m.k]
	}
	sum := sha256.Sum256(b)
	m.version = "m-" + hex.EncodeToString(sum[:6])
	return m, nil
}

//go:embed model.bin.gz
var embedded []byte

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// Default returns the model shipped in the binary.
func Default() (*Model, error) {
	defaultOnce.Do(func() { defaultModel, defaultErr = Decode(embedded) })
	return defaultModel, defaultErr
}
