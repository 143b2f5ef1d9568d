"""autorec_fast: fast autoencoder recommenders on compiled CPU and CUDA kernels."""
