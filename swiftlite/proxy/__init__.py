"""The proxy server: the Swift API in front of the account, container and object servers."""
