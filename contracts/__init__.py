"""What passes between the layers: workflow and activity inputs, results and the
views the status queries return. Below db/, activities/, workflows/ and api/ (they
all import it; it imports only domain/). Keyword-only dataclasses: a message is
built by naming its fields, so no two of them can be swapped."""
