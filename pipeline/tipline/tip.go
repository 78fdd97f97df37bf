package tipline

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Channel names, as in Tip.Channel and Adapter.Name.
const (
	ChannelTelegram = "telegram"
	ChannelWhatsApp = "whatsapp"
)

// Tip is one message a person sent to the tipline.
type Tip struct {
	Channel string // ChannelTelegram or ChannelWhatsApp
	// ChatID is where to reply: the platform's chat id or phone number,
	// sealed (encrypted and authenticated) with a key derived from the hash
	// key, so storing it reveals nothing. Only the adapter that made it can
	// open it (see Telegram.Send, WhatsApp.Send). Never log it.
	ChatID string
	// SenderHash is HashSender(HashKey, Channel, sender id): stable for one
	// person on one platform, and not reversible without the key.
	SenderHash string
	// MessageID identifies the message on its platform: Telegram's
	// message_id (unique only within a chat; use ID for a stable key), or for
	// WhatsApp a keyed hash of the wamid, since a wamid encodes the sender's
	// phone number.
	MessageID string
	Text      string // the text or the caption; for a forwarded message the forwarded text
	Forwarded bool
	LangHint  string // language code the platform gives (Telegram only), may be ""
	Date      time.Time
}

// ID is a stable key for the tip, unique across channels and chats, that
// holds no personal data: channel, sender hash and message id.
func (t Tip) ID() string {
	return t.Channel + ":" + t.SenderHash + ":" + t.MessageID
}

// Handler decides the answer to a tip. The caller classifies and stores the
// tip in it. An empty reply sends nothing; an error sends the person the
// TryLater text and is logged without the tip's text or sender.
type Handler func(ctx context.Context, tip Tip) (reply string, err error)

// Adapter is one platform.
type Adapter interface {
	Name() string
	// Run answers tips with h until ctx ends, then returns nil; an error
	// means the adapter cannot work (for example a rejected token).
	Run(ctx context.Context, h Handler) error
}

// Messages are the fixed replies. A field left empty takes its value from
// DefaultMessages.
type Messages struct {
	Welcome  string // answer to Telegram's /start and /help, WhatsApp's welcome request
	NeedText string // answer to a message with no text (sticker, photo without caption, voice…)
	TryLater string // answer when the Handler fails
}

// DefaultMessages are bilingual, French then English.
var DefaultMessages = Messages{
	Welcome: "Bonjour ! Transférez-moi un message, une rumeur ou une information dont vous doutez, " +
		"et je vous dirai ce que nous en savons.\n\n" +
		"Hello! Forward me a message, a rumour or a piece of news you are unsure about, " +
		"and I will tell you what we know about it.",
	NeedText: "Je ne peux lire que du texte. Merci d'envoyer le message sous forme de texte, " +
		"ou une image avec une légende.\n\n" +
		"I can only read text. Please send the message as text, or a picture with a caption.",
	TryLater: "Désolé, je ne peux pas répondre pour le moment. Merci de réessayer plus tard.\n\n" +
		"Sorry, I cannot answer right now. Please try again later.",
}

func (m Messages) withDefaults() Messages {
	if m.Welcome == "" {
		m.Welcome = DefaultMessages.Welcome
	}
	if m.NeedText == "" {
		m.NeedText = DefaultMessages.NeedText
	}
	if m.TryLater == "" {
		m.TryLater = DefaultMessages.TryLater
	}
	return m
}

// MinHashKeyLen is the shortest hash key accepted, in bytes.
const MinHashKeyLen = 16

// HashSender is the keyed hash of a sender id on a channel: HMAC-SHA256 of
// "channel:id" with key, first 16 bytes, hex. The channel prefix keeps a
// Telegram user id and a WhatsApp number that happen to be equal apart.
func HashSender(key []byte, channel, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(channel + ":" + id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

var (
	// ErrConfig wraps every configuration error a constructor returns.
	ErrConfig = errors.New("tipline: invalid configuration")
	// ErrBadToken: the platform refused the bot token (Telegram answers 401
	// or 404 to a wrong one); retrying will not help.
	ErrBadToken = errors.New("token rejected")
	// ErrBadChatID: a ChatID given to Send was not made by this adapter.
	ErrBadChatID = errors.New("tipline: chat id not made by this adapter")
)

// APIError is an error answer from a platform's API.
type APIError struct {
	Channel     string
	Method      string // Bot API method, or "messages" for WhatsApp
	Status      int    // HTTP status
	Code        int    // platform error code (Telegram error_code, Graph error.code)
	Description string
	RetryAfter  time.Duration // how long the platform asked to wait, if it did

	badToken bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tipline: %s: %s: HTTP %d: error %d: %s", e.Channel, e.Method, e.Status, e.Code, e.Description)
}

// Is makes errors.Is(err, ErrBadToken) true when the platform refused the
// token.
func (e *APIError) Is(target error) bool { return target == ErrBadToken && e.badToken }
