// Package exports parses the message exports communication teams already
// have — Telegram Desktop result.json files, WhatsApp chat exports (.txt, or
// the .zip the phone shares) written by Android and iOS in English and
// French, CrowdTangle and Meta Content Library CSV files, and any other CSV
// through a column map — into Messages. It owns recognising a file, each
// format's quirks (day/month order, zones, system and media lines, text
// entities, spreadsheet encodings), deterministic message ids, and the
// parsers' safety limits: input size, message and error counts, zip entry
// count and uncompressed size. What happens to a Message next — classifying,
// storing — is the caller's job.
//
// A Message carries the author exactly as the file gives it: hashing it is
// the caller's job, and nothing here logs it. LineError messages never quote
// an author or a message text, so they can be logged as they are.
//
// # Dates
//
// Dates are returned in UTC. An instant the file states (Telegram's
// date_unixtime, a CSV date with a zone, offset or unix seconds) is kept; a
// wall-clock date without zone (WhatsApp, Telegram's "date", CSV dates
// without zone) is read in Options.Location, UTC when that is nil.
// CrowdTangle's zone abbreviations take their North American meaning where
// ambiguous (CST is US Central).
//
// # Telegram
//
// Both the single-chat export and the whole-account export ("chats" and
// "left_chats" lists) are read. Service messages and messages without text
// (photos, stickers, voice notes without caption) are dropped. "text" may be
// a string or an array of strings and entities; links come from "link" and
// "text_link" entities and from the text. The author is "from", else
// "from_id". Message.Line is the message's 1-based position in its chat's
// "messages" array. A file cut short yields the messages before the cut and
// one LineError.
//
// # WhatsApp
//
// Day/month order is decided once per file, since a line such as 05/06/24
// cannot tell: a four-digit first field means year first; any first field
// over 12 means day first; else any second field over 12 means month first;
// else French system or media lines (or "à" between date and time) mean day
// first; else a two-digit year, the en-US shape, means month first; else day
// first. What people write is never used as a hint, since bilingual chats
// are common.
//
// System lines (encryption notice, members added or leaving, subject
// changes), media placeholders ("<Media omitted>", "<Médias omis>", "image
// omitted", "image absente", attachments) and deleted messages are dropped;
// iOS marks all of these by starting their text with U+200E, and a message
// whose text starts so is dropped. A caption after an Android "(file
// attached)" line is kept, and the "<This message was edited>" suffix is
// removed. The chat name comes from the file name ("WhatsApp Chat with
// X.txt", "Discussion WhatsApp avec X.zip"), the zip's first.
//
// # CSV
//
// Columns are matched by name, without regard to case or order; the header
// may start with a UTF-8 BOM, the file may be UTF-16 with BOM or
// Windows-1252, and the separator may be a comma, a semicolon or a tab. A
// row that cannot be read (stray quote, missing fields, bad date) is a
// LineError on the line the row starts; an unclosed quote costs only its
// row. Rows without text are dropped. Two rows for the same post share its
// id.
package exports
