// Package tipline is where members of the public forward a rumour to a bot
// and get an answer. It owns the platform side of that conversation: the
// Telegram Bot API (long polling or webhook) and the WhatsApp Cloud API
// (webhook), turning each incoming message into a Tip, calling the Handler
// the pipeline supplies, and sending the Handler's reply back as a reply to
// the person's message.
//
// It also owns the privacy and safety rules at that boundary: the sender's
// platform id, phone number and name never leave an adapter (a Tip carries
// a keyed hash of the id and a sealed reply address); message text, chat ids
// and tokens are never logged; tokens never appear in error strings;
// webhooks are authenticated (Telegram's secret token, Meta's payload
// signature) and their bodies size-limited; replies are cut to the
// platform's limit on rune boundaries. Classifying and storing a tip is the
// Handler's job, not this package's.
//
// The tiplinetest subpackage has local stand-in servers for both platforms.
package tipline
