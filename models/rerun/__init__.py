"""Reruns: send a logged event, or a filtered batch of them, to another model through the openai
SDK and keep the evidence linked to the originals.

`endpoints` names the OpenAI-compatible backends (keys read at call time, never stored);
`llm_client` makes the calls; `capabilities` adapts parameters to what a model accepts; `runner`
plans, runs and resumes single and batch reruns; `judge` compares a rerun with its original;
`store` reads and writes rerun tables; `report` turns a batch into win/tie/loss with intervals.
"""
