"""LTG-BERT example: research encoder, Hugging Face wrapper, training and checkpoint script."""
