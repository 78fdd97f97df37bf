// Package tiplinetest has local stand-ins for the Telegram Bot API and the
// WhatsApp Cloud API that speak their documented wire formats: a Bot API
// server (getUpdates long polling, sendMessage, setWebhook, deleteWebhook,
// 404 for a wrong token, injected 429s) and a Graph messages endpoint plus
// a sender of signed webhook notifications. They serve the tipline
// package's tests and the pipeline's end-to-end tests.
package tiplinetest
