// Package fetch gets documents over HTTP safely: it refuses non-public
// addresses at connect time (the SSRF guard), bounds body sizes, redirects
// and every wait, limits requests per host, and sends conditional requests
// with the validators of the previous answer. Ingest polls through it and
// the alert channels deliver through its Guard; neither parses anything
// here.
package fetch
