"""What every page shares: shareable links, presenter view, the lesson panel, widget state, the server-path rule."""
