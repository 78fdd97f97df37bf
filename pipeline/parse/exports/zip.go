package exports

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// A zip is read from memory (it is at most Options.MaxBytes). Its entry
// count is checked against the end-of-central-directory record before
// archive/zip builds its index, and again after; each entry read is bounded
// by what remains of the MaxBytes budget, by its declared size first and by
// the bytes actually inflated second, so a zip bomb is refused before it is
// inflated.

// isZip recognises a zip's first bytes: a local file header, or the end
// record alone of an empty archive.
func isZip(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// detectZip recognises a WhatsApp or Telegram export zip from its own name
// or the names of the entries whose local headers the head holds.
func detectZip(name string, head []byte) (string, bool) {
	if whatsAppChatName(name) != "" && strings.EqualFold(path.Ext(name), ".zip") {
		return FormatWhatsAppTxt, true
	}
	for _, entry := range zipHeadNames(head) {
		switch {
		case isWhatsAppTxtName(entry):
			return FormatWhatsAppTxt, true
		case path.Base(entry) == "result.json":
			return FormatTelegramJSON, true
		}
	}
	return "", false
}

// zipHeadNames lists the entry names of the local file headers in head,
// stopping at one whose size is only known after its data.
func zipHeadNames(head []byte) []string {
	var names []string
	for len(head) >= 30 && bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		flags := binary.LittleEndian.Uint16(head[6:])
		size := uint64(binary.LittleEndian.Uint32(head[18:]))
		n := int(binary.LittleEndian.Uint16(head[26:]))
		extra := int(binary.LittleEndian.Uint16(head[28:]))
		if 30+n > len(head) {
			break
		}
		names = append(names, string(head[30:30+n]))
		next := uint64(30+n+extra) + size
		if flags&0x8 != 0 || next > uint64(len(head)) {
			break
		}
		head = head[next:]
	}
	return names
}

// zipEntryCount reads the entry count the end-of-central-directory record
// (or its zip64 version) declares.
func zipEntryCount(data []byte) (uint64, bool) {
	const eocdLen = 22
	if len(data) < eocdLen {
		return 0, false
	}
	from := max(len(data)-eocdLen-0xffff, 0)
	i := bytes.LastIndex(data[from:], []byte("PK\x05\x06"))
	if i < 0 || from+i+eocdLen > len(data) {
		return 0, false
	}
	i += from
	n := uint64(binary.LittleEndian.Uint16(data[i+10:]))
	if n != 0xffff || i < 20 || string(data[i-20:i-16]) != "PK\x06\x07" {
		return n, true
	}
	off := binary.LittleEndian.Uint64(data[i-20+8:])
	if off > uint64(len(data)) || uint64(len(data))-off < 56 || string(data[off:off+4]) != "PK\x06\x06" {
		return n, true
	}
	return binary.LittleEndian.Uint64(data[off+32:]), true
}

func (p *parser) parseZip(name string, data []byte) error {
	limit := p.opts.MaxZipEntries
	if n, ok := zipEntryCount(data); ok && n > uint64(limit) {
		return fmt.Errorf("exports: %s: %w: %d entries, limit %d (Options.MaxZipEntries)", name, ErrTooManyEntries, n, limit)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // nothing is written to disk
		return fmt.Errorf("exports: %s: %w: not a readable zip: %w", name, ErrMalformed, err)
	}
	if len(zr.File) > limit {
		return fmt.Errorf("exports: %s: %w: %d entries, limit %d (Options.MaxZipEntries)", name, ErrTooManyEntries, len(zr.File), limit)
	}
	budget := p.opts.MaxBytes
	found := 0
	for _, f := range zipCandidates(zr.File) {
		p.file = name + "/" + f.Name
		if f.UncompressedSize64 > uint64(budget) {
			return fmt.Errorf("exports: %s: %w: declares %d bytes uncompressed, over the %d left of Options.MaxBytes", p.file, ErrTooLarge, f.UncompressedSize64, budget)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("exports: %s: %w: %w", p.file, ErrMalformed, err)
		}
		body, err := io.ReadAll(io.LimitReader(rc, budget+1))
		rc.Close()
		if int64(len(body)) > budget {
			return fmt.Errorf("exports: %s: %w: inflates to over the %d bytes left of Options.MaxBytes", p.file, ErrTooLarge, budget)
		}
		if errors.Is(err, zip.ErrFormat) { // archive/zip's word for inflating past the declared size
			return fmt.Errorf("exports: %s: %w: inflates to more than the %d bytes it declares", p.file, ErrTooLarge, f.UncompressedSize64)
		}
		if err != nil {
			return fmt.Errorf("exports: %s: %w: inflating: %w", p.file, ErrMalformed, err)
		}
		budget -= int64(len(body))
		if p.opts.Format == "" {
			if _, ok := DetectWith(f.Name, body, p.opts); !ok {
				continue
			}
		}
		found++
		if err := p.parseFile(f.Name, name, body); err != nil {
			return err
		}
	}
	p.file = name
	if found == 0 {
		return fmt.Errorf("exports: %s: %w (want _chat.txt, \"WhatsApp Chat with ….txt\", result.json or a known CSV)", name, ErrNoExport)
	}
	return nil
}

// zipCandidates are the entries worth reading: those named as WhatsApp or
// Telegram name their chat files if there are any, else every .txt, .json,
// .csv and .tsv. Media and macOS metadata are never read.
func zipCandidates(files []*zip.File) []*zip.File {
	var named, other []*zip.File
	for _, f := range files {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, "._") {
			continue
		}
		switch {
		case isWhatsAppTxtName(f.Name), base == "result.json":
			named = append(named, f)
		case slices.Contains([]string{".txt", ".json", ".csv", ".tsv"}, strings.ToLower(path.Ext(base))):
			other = append(other, f)
		}
	}
	if len(named) > 0 {
		return named
	}
	return other
}
