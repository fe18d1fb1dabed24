"""Buyer credit (买家信用): what a buyer filed and how it ended, and the malicious-refund flag that refuses the
buyer platform advances. Figures in queries.py, the flag's writes in services.py, pages in routes.py."""
