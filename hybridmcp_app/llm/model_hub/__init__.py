"""Getting local models: the curated catalogue, the Hugging Face Hub, and downloads (no Qt)."""
