"""Training Kabar's own checker model (python -m train); the app never imports this package."""
