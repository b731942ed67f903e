"""The Settings dialog and its pages: form, providers, local model, local API, storage, keychain."""
