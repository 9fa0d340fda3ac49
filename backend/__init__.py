"""企业注销登记“一件事” platform: one application, six matters, every result in one place."""
