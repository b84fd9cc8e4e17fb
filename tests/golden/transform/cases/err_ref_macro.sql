-- a ref() inside a macro: the error names the model line that called it
{{ from_missing() }}
