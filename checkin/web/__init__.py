"""What browsers, tablets, displays and API clients reach: blueprints by audience, their forms,
JSON schemas and OpenAPI document, and the error pages. Views parse, call a service, and turn
its answer or its typed error into a page or JSON.
"""
