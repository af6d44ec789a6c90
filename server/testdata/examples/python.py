import requests
def get_contacts():
    url = "https://api.axiom-console.com/v1/leads"
    headers = {
        "X-Axiom-API-Key": "your_api_key_here",
        "Content-Type": "application/json"
    }
    response = requests.get(url, headers=headers)
    if response.status_code == 200:
        return response.json()
    else:
        print(f"Error: {response.status_code}")
        print(response.text)

import json
print(json.dumps(get_contacts()))
