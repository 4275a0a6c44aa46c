"""The Megatron side of pre-training: megatron-core model, conversion to and from
Hugging Face Llama, and the LUMI training entry point (`train_gpt`)."""
